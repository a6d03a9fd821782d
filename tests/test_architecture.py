"""The import contract: dependencies point down; pure domain modules do no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "reelguard"

PURE_MODULES = ["drm/keys.py", "drm/cpix.py", "drm/pssh.py", "media/ladder.py", "license/clearkey.py",
                "license/policy.py", "license/rules.py", "errors.py", "clock.py",
                "watermark/embedding.py", "watermark/detection.py", "watermark/code.py", "watermark/alignment.py",
                "watermark/pace.py", "fingerprint/signatures.py", "fingerprint/views.py", "fingerprint/thumbnails.py",
                "fingerprint/pdq.py", "fingerprint/landmarks.py", "fingerprint/matching.py", "fingerprint/insets.py",
                "fingerprint/significance.py", "media/sample.py", "monitor/releases.py", "monitor/matching.py",
                "jsonbounds.py", "titles.py", "progress.py"]
FORBIDDEN_IN_PURE = {"subprocess", "sqlalchemy", "fastapi", "starlette", "click", "uvicorn", "os", "socket",
                     "httpx", "maxminddb", "time", "threading", "pathlib",
                     "reelguard.store", "reelguard.web", "reelguard.cli", "reelguard.composition",
                     "reelguard.license.facts", "reelguard.license.ledger", "reelguard.license.geo"}
SHELLS = ("reelguard.web", "reelguard.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_import_no_io(module: str) -> None:
    imported = _imports(SRC / module)
    bad = {name for name in imported for forbidden in FORBIDDEN_IN_PURE
           if name == forbidden or name.startswith(forbidden + ".")}
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", [m for m in PURE_MODULES if m != "clock.py"])
def test_pure_modules_read_no_clock(module: str) -> None:
    """Same input, same output: the clock value arrives in the context, it is never read."""
    for node in ast.walk(ast.parse((SRC / module).read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in {"now", "utcnow", "today", "time", "monotonic"}, f"{module} reads a clock"


def test_the_layer_contract_holds() -> None:
    """import-linter's ``layers`` contract in pyproject.toml: shells > composition root > services > domain
    and adapters > store > foundations — any upward import, at module level or inside a function, fails."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--config", str(SRC.parents[1] / "pyproject.toml")], capture_output=True,
                            text=True, cwd=SRC.parents[1], timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_nothing_below_the_shells_imports_a_shell() -> None:
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0]
        if package in ("web", "cli"):
            continue
        shells = {name for name in _imports(path) if name.startswith(SHELLS)}
        assert not shells, f"{path.relative_to(SRC)} imports shell modules {shells}"


def test_media_knows_no_drm_policy() -> None:
    """Tiering a rendition is DRM policy: ``Rendition.tier`` called into ``drm.keys`` from below it."""
    for path in (SRC / "media").rglob("*.py"):
        above = ("reelguard.drm", "reelguard.license", "reelguard.watermark", "reelguard.fingerprint",
                 "reelguard.ingest", "reelguard.accounts", "reelguard.composition", "reelguard.web", "reelguard.cli")
        upward = {name for name in _imports(path) if name.startswith(above)}
        assert not upward, f"{path.relative_to(SRC)} imports {upward}"


def test_every_module_has_a_docstring() -> None:
    missing = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if "migrations" not in p.parts and ast.get_docstring(ast.parse(p.read_text())) is None
               and p.read_text().strip()]
    assert not missing, missing


def test_public_surfaces_are_pinned() -> None:
    import reelguard.accounts as accounts
    import reelguard.drm as drm
    import reelguard.license as license_
    import reelguard.store as store

    assert sorted(drm.__all__) == ["ContentKey", "KeyEncryptionKey", "KeyId", "KeyStore", "StoredKey", "TrackTier"]
    assert sorted(license_.__all__) == ["ClearKeyRequest", "Decision", "EntitlementClaims", "Policy",
                                        "PolicyContext", "TokenSigner", "TokenVerifier", "build_license_response",
                                        "load_policy", "parse_license_request"]
    assert sorted(store.__all__) == ["BlobStore", "Database", "LocalBlobStore"]
    assert sorted(accounts.__all__) == ["AccountService", "AccountView"]


def test_the_migration_shortcut_knows_the_newest_revision() -> None:
    """``Database.migrate`` skips Alembic when the schema is at SCHEMA_REVISION: it must be Alembic's head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from reelguard.store.database import SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", str(SRC / "store" / "migrations"))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_REVISION]


def test_package_imports_are_lazy() -> None:
    """Importing a small module of a package must not import the package's heavy siblings."""
    import subprocess
    import sys

    code = ("import sys, reelguard.drm.keys, reelguard.license.clearkey, reelguard.web.access_log; "
            "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'faiss', 'cv2', 'av') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
