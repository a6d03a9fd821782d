"""DASH-IF CPIX 2.3 documents: parse a key request, build a key response (pure, no I/O).

This is the exchange format of AWS SPEKE v2: an encryptor sends a CPIX document naming
the content (``CPIX@contentId``), the keys it wants (``ContentKey@kid`` — the encryptor
chooses KIDs — with ``@commonEncryptionScheme``), how each key is used
(``ContentKeyUsageRule@intendedTrackType``) and which DRM signaling it needs per system
(``DRMSystem`` with empty ``PSSH``, ``ContentProtectionData`` or ``HLSSignalingData``).
The answer is the same document with ``Data/Secret/PlainValue`` and the signaling filled.

Parsing is bounded before it starts (bytes, then element counts) and done with
defusedxml, so entity expansion, external entities and DTDs are refused::

    request = parse_cpix(body, max_bytes=262_144)
    answer = build_cpix_response(request, keys={kid: content_key}, signaling=signaling_for)
"""

from __future__ import annotations

import base64
import binascii
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from reelguard.drm.keys import KEY_BYTES, ContentKey, KeyId, TrackTier
from reelguard.errors import InvalidCpix, PayloadTooLarge

__all__ = [
    "CPIX_NS",
    "CpixDrmSystem",
    "CpixKey",
    "CpixRequest",
    "build_cpix_response",
    "parse_cpix",
    "read_cpix_keys",
    "tier_for_track_type",
]

CPIX_NS = "urn:dashif:org:cpix"
PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"
SUPPORTED_VERSIONS = ("2.3",)
SCHEMES = ("cenc", "cbc1", "cens", "cbcs")
SIGNALING = ("PSSH", "ContentProtectionData", "HLSSignalingData", "SmoothStreamingProtectionHeaderData")
MAX_KEYS = 64
MAX_ELEMENTS = 2_000
_C = f"{{{CPIX_NS}}}"

ET.register_namespace("cpix", CPIX_NS)
ET.register_namespace("pskc", PSKC_NS)


@dataclass(frozen=True, slots=True)
class CpixKey:
    kid: KeyId
    scheme: str
    track_type: str | None


@dataclass(frozen=True, slots=True)
class CpixDrmSystem:
    system_id: str
    kid: KeyId
    wants: tuple[str, ...]        # signaling elements requested, in document order
    hls_playlist: str | None      # HLSSignalingData@playlist ("media" or "master") if requested


@dataclass(frozen=True)
class CpixRequest:
    content_id: str
    version: str
    keys: tuple[CpixKey, ...]
    drm_systems: tuple[CpixDrmSystem, ...]
    document: ET.Element


def tier_for_track_type(track_type: str | None) -> TrackTier:
    """SPEKE v2 ``intendedTrackType`` → reelguard tier (a key for all video counts as HD)."""
    normalised = (track_type or "").upper()
    if normalised == "AUDIO":
        return TrackTier.AUDIO
    if normalised == "SD":
        return TrackTier.SD
    if normalised.startswith("UHD"):
        return TrackTier.UHD
    return TrackTier.HD


def parse_cpix(document: bytes, *, max_bytes: int) -> CpixRequest:
    """A validated CPIX 2.3 key request, or InvalidCpix saying what is wrong."""
    if len(document) > max_bytes:
        raise PayloadTooLarge(f"CPIX document is {len(document)} bytes; at most {max_bytes} accepted")
    try:
        root = SafeET.fromstring(document, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise InvalidCpix(f"expected a CPIX XML document, got unparseable XML ({type(exc).__name__})") from exc
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise InvalidCpix(f"CPIX document has more than {MAX_ELEMENTS} elements")
    if root.tag != f"{_C}CPIX":
        raise InvalidCpix(f"expected a root element cpix:CPIX ({CPIX_NS}), got {root.tag[:80]!r}")
    content_id, version = root.get("contentId"), root.get("version")
    if not content_id:
        raise InvalidCpix("missing CPIX@contentId (the title name)")
    if version not in SUPPORTED_VERSIONS:
        raise InvalidCpix(f"CPIX@version must be one of {', '.join(SUPPORTED_VERSIONS)}, got {version!r}")
    keys = _keys(root)
    return CpixRequest(content_id[:200], version, keys, _drm_systems(root, {k.kid for k in keys}), root)


def _kid(text: str | None, where: str) -> KeyId:
    try:
        return KeyId(uuid.UUID(text or "").bytes)
    except ValueError as exc:
        raise InvalidCpix(f"{where}@kid must be a UUID like 98ee5596-cd3e-a20d-163a-e382420c6eff, "
                          f"got {(text or '')[:40]!r}") from exc


def _keys(root: ET.Element) -> tuple[CpixKey, ...]:
    elements = root.findall(f"{_C}ContentKeyList/{_C}ContentKey")
    if not elements:
        raise InvalidCpix("expected at least one ContentKeyList/ContentKey")
    if len(elements) > MAX_KEYS:
        raise InvalidCpix(f"at most {MAX_KEYS} content keys per request, got {len(elements)}")
    usage = {_kid(rule.get("kid"), "ContentKeyUsageRule"): rule.get("intendedTrackType")
             for rule in root.findall(f"{_C}ContentKeyUsageRuleList/{_C}ContentKeyUsageRule")}
    keys = []
    for element in elements:
        kid = _kid(element.get("kid"), "ContentKey")
        scheme = element.get("commonEncryptionScheme")
        if scheme not in SCHEMES:
            raise InvalidCpix(f"ContentKey {kid} needs commonEncryptionScheme in {', '.join(SCHEMES)}, "
                              f"got {scheme!r}")
        keys.append(CpixKey(kid, scheme, usage.get(kid)))
    if len({k.kid for k in keys}) != len(keys):
        raise InvalidCpix("a KID appears twice in ContentKeyList")
    if len({k.scheme for k in keys}) > 1:
        raise InvalidCpix("all content keys of one request must use the same commonEncryptionScheme")
    return tuple(keys)


def _drm_systems(root: ET.Element, kids: set[KeyId]) -> tuple[CpixDrmSystem, ...]:
    systems = []
    for element in root.findall(f"{_C}DRMSystemList/{_C}DRMSystem"):
        kid = _kid(element.get("kid"), "DRMSystem")
        if kid not in kids:
            raise InvalidCpix(f"DRMSystem names KID {kid}, which is not in ContentKeyList")
        try:
            system_id = str(uuid.UUID(element.get("systemId") or ""))
        except ValueError as exc:
            raise InvalidCpix(f"DRMSystem@systemId must be a UUID, got {element.get('systemId')!r:.60}") from exc
        wants = tuple(child.tag.removeprefix(_C) for child in element if child.tag.removeprefix(_C) in SIGNALING)
        hls = element.find(f"{_C}HLSSignalingData")
        systems.append(CpixDrmSystem(system_id, kid, wants, hls.get("playlist") if hls is not None else None))
    if len(systems) > MAX_KEYS * 4:
        raise InvalidCpix("too many DRMSystem entries")
    return tuple(systems)


Signaling = Callable[[CpixDrmSystem, str], str]  # (system, element name) → text to put in the element


def build_cpix_response(request: CpixRequest, *, keys: Mapping[KeyId, ContentKey], signaling: Signaling) -> bytes:
    """The request document with every key's secret and every requested signaling filled in."""
    root = request.document
    for element in root.findall(f"{_C}ContentKeyList/{_C}ContentKey"):
        key = keys[_kid(element.get("kid"), "ContentKey")]
        for old in element.findall(f"{_C}Data"):
            element.remove(old)
        data = ET.SubElement(element, f"{_C}Data")
        secret = ET.SubElement(data, f"{{{PSKC_NS}}}Secret")
        ET.SubElement(secret, f"{{{PSKC_NS}}}PlainValue").text = base64.b64encode(key.key).decode("ascii")
    by_position = iter(request.drm_systems)
    for element in root.findall(f"{_C}DRMSystemList/{_C}DRMSystem"):
        system = next(by_position)
        for name in system.wants:
            target = element.find(f"{_C}{name}")
            if target is not None:
                target.text = signaling(system, name)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def read_cpix_keys(document: bytes, *, max_bytes: int) -> dict[KeyId, bytes]:
    """The plain content keys of a CPIX response (what an encryptor reads back)."""
    request = parse_cpix(document, max_bytes=max_bytes)
    found: dict[KeyId, bytes] = {}
    for element in request.document.findall(f"{_C}ContentKeyList/{_C}ContentKey"):
        value = element.findtext(f"{_C}Data/{{{PSKC_NS}}}Secret/{{{PSKC_NS}}}PlainValue")
        if value is None:
            continue
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise InvalidCpix("PlainValue is not base64") from exc
        if len(raw) != KEY_BYTES:
            raise InvalidCpix(f"a content key is {KEY_BYTES} bytes, got {len(raw)}")
        found[_kid(element.get("kid"), "ContentKey")] = raw
    return found
