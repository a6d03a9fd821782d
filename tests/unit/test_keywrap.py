"""KEK: created 0600 on first use, refuses loose permissions, wraps and unwraps."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reelguard.drm.keywrap import KeyEncryptionKey
from reelguard.errors import ConfigurationError


def test_first_use_creates_owner_only_kek(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "kek.bin"
    kek = KeyEncryptionKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyEncryptionKey.load_or_create(path).kek_id == kek.kek_id


def test_wrap_round_trip_and_wrapped_differs(tmp_path: Path) -> None:
    kek = KeyEncryptionKey.load_or_create(tmp_path / "kek.bin")
    key = bytes(range(16))
    wrapped = kek.wrap(key)
    assert len(wrapped) == 24 and key not in wrapped
    assert kek.unwrap(wrapped) == key


def test_refuses_group_readable_kek(tmp_path: Path) -> None:
    path = tmp_path / "kek.bin"
    KeyEncryptionKey.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="expected 0o600"):
        KeyEncryptionKey.load_or_create(path)


def test_wrong_kek_is_a_clear_error(tmp_path: Path) -> None:
    one = KeyEncryptionKey.load_or_create(tmp_path / "a.bin")
    two = KeyEncryptionKey.load_or_create(tmp_path / "b.bin")
    with pytest.raises(ConfigurationError, match="do not belong together"):
        two.unwrap(one.wrap(bytes(16)))


def test_repr_hides_material(tmp_path: Path) -> None:
    kek = KeyEncryptionKey.load_or_create(tmp_path / "kek.bin")
    assert kek.material.hex() not in repr(kek)
