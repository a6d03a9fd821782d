"""The key server: CPIX 2.3 answers for authenticated third-party packagers (SPEKE v2).

Steps for one request (numbered in the code):
(1) parse and bound the CPIX document; (2) ``contentId`` must name a catalog title the
client may use; (3) each requested KID is the title's own key, a key a packager asked
for before, or — SPEKE lets the encryptor choose KIDs — a new key created for this title
with the tier its ``intendedTrackType`` names; a KID of another title is refused;
(4) answer with the keys and the requested signaling (PSSH, DASH ContentProtectionData,
HLS EXT-X-KEY / EXT-X-SESSION-KEY) for the systems reelguard can signal itself: the
Common system (Clear Key), Widevine (key-id-only PSSH data) and FairPlay (``skd://``).
PlayReady headers need the PlayReady service; such requests get a clear 422.

    server = KeyServer(db, keystore, clock, max_bytes=262_144)
    cpix_xml = server.answer(body, client)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from reelguard.clock import Clock
from reelguard.drm.api_clients import ApiClient
from reelguard.drm.cpix import CpixDrmSystem, CpixRequest, build_cpix_response, parse_cpix, tier_for_track_type
from reelguard.drm.keys import ContentKey, KeyId
from reelguard.drm.keystore import KeyStore
from reelguard.drm.pssh import COMMON_SYSTEM_ID, FAIRPLAY_SYSTEM_ID, WIDEVINE_SYSTEM_ID, pssh_box, widevine_pssh_data
from reelguard.errors import InvalidCpix, PermissionDenied
from reelguard.store import repositories
from reelguard.store.database import Database

__all__ = ["KeyServer", "signaling_for"]

_PSSH_SYSTEMS = {COMMON_SYSTEM_ID: lambda kids: b"", WIDEVINE_SYSTEM_ID: widevine_pssh_data}


def _b64(raw: bytes | str) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode("ascii")


def signaling_for(system: CpixDrmSystem, element: str) -> str:
    """The base64 text of one requested signaling element (SPEKE v2 conventions)."""
    if system.system_id == FAIRPLAY_SYSTEM_ID and element == "HLSSignalingData":
        tag = "#EXT-X-SESSION-KEY" if system.hls_playlist == "master" else "#EXT-X-KEY"
        return _b64(f'{tag}:METHOD=SAMPLE-AES,URI="skd://{system.kid.hex}",'
                    'KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"')
    make_data = _PSSH_SYSTEMS.get(system.system_id)
    if make_data is None:
        raise InvalidCpix(f"reelguard cannot write {element} for DRM system {system.system_id}; it signals the "
                          "Common system, Widevine and FairPlay (use the licence proxy with your PlayReady service)")
    box = pssh_box(system.system_id, [system.kid], make_data([system.kid]))
    if element == "PSSH":
        return _b64(box)
    if element == "ContentProtectionData":
        return _b64(f'<cenc:pssh xmlns:cenc="urn:mpeg:cenc:2013">{_b64(box)}</cenc:pssh>')
    if element == "HLSSignalingData":
        tag = "#EXT-X-SESSION-KEY" if system.hls_playlist == "master" else "#EXT-X-KEY"
        return _b64(f'{tag}:METHOD=SAMPLE-AES,URI="data:text/plain;base64,{_b64(box)}",'
                    f'KEYFORMAT="urn:uuid:{system.system_id}",KEYFORMATVERSIONS="1"')
    raise InvalidCpix(f"reelguard does not produce {element}")


class KeyServer:
    def __init__(self, db: Database, keystore: KeyStore, clock: Clock, *, max_bytes: int) -> None:
        self._db, self._keystore, self._clock, self._max_bytes = db, keystore, clock, max_bytes

    def answer(self, body: bytes, client: ApiClient) -> bytes:
        request = parse_cpix(body, max_bytes=self._max_bytes)                        # (1)
        client.may_use(request.content_id)
        for system in request.drm_systems:  # refuse unsupported signaling before any key is made
            for element in system.wants:
                signaling_for(system, element)
        try:
            keys = self._keys_for(request, client)                                    # (2), (3)
        except IntegrityError:  # another request created the same new KID first: read it back
            keys = self._keys_for(request, client)
        return build_cpix_response(request, keys=keys, signaling=signaling_for)      # (4)

    def _keys_for(self, request: CpixRequest, client: ApiClient) -> dict[KeyId, ContentKey]:
        with self._db.transaction() as session:
            title = repositories.load_title(session, request.content_id)
            kids: Sequence[KeyId] = [key.kid for key in request.keys]
            found = {stored.key.kid: stored for stored in self._keystore.lookup(session, kids)}
            answer: dict[KeyId, ContentKey] = {}
            for wanted in request.keys:
                stored = found.get(wanted.kid)
                if stored is not None and stored.title_id != title.id:
                    raise PermissionDenied(f"KID {wanted.kid} belongs to another title than {title.name!r}")
                if stored is None:
                    fresh = ContentKey.generate(tier_for_track_type(wanted.track_type))
                    key = ContentKey(wanted.kid, fresh.tier, fresh.key)
                    self._keystore.import_key(session, title.id, key, self._clock(), origin=f"speke:{client.id}")
                    answer[wanted.kid] = key
                else:
                    answer[wanted.kid] = stored.key
            return answer
