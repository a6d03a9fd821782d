"""DRM: content keys, their wrapping at rest, the key store and packaging."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.drm.keys import ContentKey, KeyId, TrackTier
    from reelguard.drm.keystore import KeyStore, StoredKey
    from reelguard.drm.keywrap import KeyEncryptionKey

__all__ = ["ContentKey", "KeyEncryptionKey", "KeyId", "KeyStore", "StoredKey", "TrackTier"]
__getattr__ = lazy_exports(__name__, {
    "ContentKey": "reelguard.drm.keys", "KeyId": "reelguard.drm.keys", "TrackTier": "reelguard.drm.keys",
    "KeyStore": "reelguard.drm.keystore", "StoredKey": "reelguard.drm.keystore",
    "KeyEncryptionKey": "reelguard.drm.keywrap",
})
