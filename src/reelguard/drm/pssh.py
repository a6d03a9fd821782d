"""DRM system IDs (DASH-IF registry) that packaged output signals in PSSH boxes.

The W3C Common system carries the KIDs for Clear Key; Widevine and PlayReady boxes are
written too so that the same package can later be licensed by a commercial service.
"""

from __future__ import annotations

__all__ = ["COMMON_SYSTEM_ID", "PACKAGER_PROTECTION_SYSTEMS", "PLAYREADY_SYSTEM_ID", "WIDEVINE_SYSTEM_ID"]

COMMON_SYSTEM_ID = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
WIDEVINE_SYSTEM_ID = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
PLAYREADY_SYSTEM_ID = "9a04f079-9840-4286-ab92-e65be0885f95"

# Names as Shaka Packager's --protection_systems flag spells them.
PACKAGER_PROTECTION_SYSTEMS = ("CommonSystem", "Widevine", "PlayReady")
