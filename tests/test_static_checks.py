"""ruff and mypy --strict stay clean (the house style, checked where CI runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    result = subprocess.run([BIN / "ruff", "check", "src", "tests", "benchmarks", "scripts"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run([BIN / "mypy"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_project_metadata_needs_no_deprecated_form() -> None:
    """`license` as a table made setuptools print a deprecation banner three times per set-up."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)  # an SPDX expression (PEP 639)
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_the_version_is_written_once() -> None:
    """It was written in four places (pyproject, CLI, OpenAPI, the SPEKE user agent); now only in the package."""
    import re
    import tomllib
    from importlib.metadata import version

    import reelguard

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"] and "version" not in project["project"]
    assert version("reelguard") == reelguard.__version__
    literal = re.compile(re.escape(f'"{reelguard.__version__}"'))
    writers = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py") if literal.search(p.read_text())]
    assert writers == ["src/reelguard/__init__.py"], writers
