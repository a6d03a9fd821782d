"""DRM system IDs (DASH-IF registry) and the PSSH boxes reelguard can write itself.

The W3C Common system carries the KIDs for Clear Key; Widevine and PlayReady boxes are
written by the packager too so that the same package can later be licensed by a
commercial service. For the key server (CPIX/SPEKE), ``pssh_box`` builds a version-1
box (ISO/IEC 23001-7 §8.1) for the Common system, and for Widevine with the minimal
``WidevinePsshData`` (key ids only) that Shaka Packager also writes for raw keys::

    box = pssh_box(COMMON_SYSTEM_ID, [kid])
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence

from reelguard.drm.keys import KeyId

__all__ = [
    "COMMON_SYSTEM_ID",
    "FAIRPLAY_SYSTEM_ID",
    "PACKAGER_PROTECTION_SYSTEMS",
    "PLAYREADY_SYSTEM_ID",
    "WIDEVINE_SYSTEM_ID",
    "pssh_box",
    "widevine_pssh_data",
]

COMMON_SYSTEM_ID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
WIDEVINE_SYSTEM_ID = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY_SYSTEM_ID = "9a04f079-9840-4286-ab92-e65be0885f95"
FAIRPLAY_SYSTEM_ID = "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"

# Names as Shaka Packager's --protection_systems flag spells them.
PACKAGER_PROTECTION_SYSTEMS = ("CommonSystem", "Widevine", "PlayReady")


def widevine_pssh_data(kids: Sequence[KeyId]) -> bytes:
    """``WidevinePsshData`` protobuf with only ``key_ids`` (field 2, length-delimited)."""
    return b"".join(b"\x12\x10" + kid.raw for kid in kids)


def pssh_box(system_id: str, kids: Sequence[KeyId], data: bytes = b"") -> bytes:
    """A version-1 ``pssh`` box: size, type, version/flags, SystemID, KIDs, data."""
    # (1) full box header: version 1 carries the KID list (CENC §8.1.1)
    body = struct.pack(">I", 1 << 24) + uuid.UUID(system_id).bytes
    # (2) KID_count and the KIDs, then DataSize and Data
    body += struct.pack(">I", len(kids)) + b"".join(kid.raw for kid in kids)
    body += struct.pack(">I", len(data)) + data
    return struct.pack(">I", 8 + len(body)) + b"pssh" + body
