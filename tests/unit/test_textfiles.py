"""An operator's text files (policy, action rules) are read bounded and as UTF-8, or refused saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelguard.enforcement.rules import load_rules
from reelguard.errors import ConfigurationError
from reelguard.license.policy_file import load_policy


@pytest.mark.parametrize(("content", "said"), [
    (b"x" * (256 * 1024 + 1), "is over 262144 bytes"),
    (b"name = \"\xff\xfe\"\n", "is not UTF-8 text"),
    (None, "cannot read"),
])
def test_a_file_too_large_not_utf8_or_missing_is_refused_naming_it(tmp_path: Path, content: bytes | None,
                                                                   said: str) -> None:
    path = tmp_path / "file.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=f"action rules file {path} .*{said}|{said} action rules file"):
        load_rules(path)
    with pytest.raises(ConfigurationError, match=f"policy file {path} .*{said}|{said} policy file"):
        load_policy(path)
