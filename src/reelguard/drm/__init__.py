"""DRM: content keys, their wrapping at rest, the key store and packaging."""

from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.drm.keystore import KeyStore, StoredKey
from reelguard.drm.keywrap import KeyEncryptionKey

__all__ = ["ContentKey", "KeyEncryptionKey", "KeyId", "KeyStore", "StoredKey", "TrackTier"]
