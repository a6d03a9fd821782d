"""The CLI as a user runs it: real processes, exit codes from the error classes, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelguard.drm.keywrap import KeyEncryptionKey
from tests.integration.bad_media import make_bad_media


def _run(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_DATA_DIR=str(data_dir), REELGUARD_STORE__DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


@pytest.fixture
def cli_env(tmp_path: Path, database_url_factory: object) -> tuple[Path, str]:
    return tmp_path / "data", database_url_factory()  # type: ignore[operator]


def test_add_list_show_and_tokens(cli_env: tuple[Path, str], media_dir: Path) -> None:
    data_dir, url = cli_env
    added = _run(data_dir, url, "titles", "add", str(media_dir / "lavfi_testsrc.mp4"), "--name", "clip", "--json")
    assert added.returncode == 0, added.stderr
    title = json.loads(added.stdout)
    assert (title["name"], title["status"]) == ("clip", "ready")
    listed = json.loads(_run(data_dir, url, "titles", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["clip"]
    shown = _run(data_dir, url, "titles", "show", "clip")
    assert shown.returncode == 0 and "ready" in shown.stdout + shown.stderr
    token = json.loads(_run(data_dir, url, "tokens", "issue", "--account", "a1", "--title", "clip",
                            "--device", "d1", "--ttl", "60", "--json").stdout)
    assert token["token"].count(".") == 2 and token["title"] == "clip"
    kek = KeyEncryptionKey.load_or_create(data_dir / "kek.bin")
    everything = added.stdout + added.stderr + shown.stdout + shown.stderr + json.dumps(listed)
    assert kek.material.hex() not in everything


@pytest.mark.parametrize("case", ["text_file_named_mp4", "truncated_media_data", "audio_only", "zero_length"])
def test_bad_media_exit_code_and_json_error(cli_env: tuple[Path, str], media_dir: Path, tmp_path: Path,
                                            case: str) -> None:
    data_dir, url = cli_env
    path = make_bad_media(media_dir, tmp_path / "bad")[case]
    result = _run(data_dir, url, "titles", "add", str(path), "--name", "bad", "--json")
    assert result.returncode == 65, result.stderr
    error = json.loads(result.stdout)
    assert error["error"] == "InvalidMedia" and "expected" in error["detail"]
    assert "Traceback" not in result.stderr
    assert json.loads(_run(data_dir, url, "titles", "list", "--json").stdout) == []


def test_unknown_title_exit_code(cli_env: tuple[Path, str]) -> None:
    data_dir, url = cli_env
    result = _run(data_dir, url, "titles", "show", "missing")
    assert result.returncode == 66 and "no title named 'missing'" in result.stderr


def test_bad_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "mysql+nosuchdriver://x", "titles", "list")
    assert result.returncode == 78 and "database URL" in result.stderr and "Traceback" not in result.stderr


def test_demo_prepares_a_playable_title_for_its_account(cli_env: tuple[Path, str], media_dir: Path) -> None:
    """What `make run` does before serving: the printed token gets a licence under the demo policy."""
    from fastapi.testclient import TestClient

    from reelguard.composition import Runtime
    from reelguard.drm.keys import KeyId
    from reelguard.web.app import create_app
    from tests.conftest import make_settings

    data_dir, url = cli_env
    shown = _run(data_dir, url, "demo", "--source", str(media_dir / "lavfi_testsrc.mp4"), "--name", "demo-clip",
                 "--no-serve")
    assert shown.returncode == 0, shown.stderr
    token = shown.stderr.split("#format=dash&token=")[1].split()[0]
    assert "reelguard policy explain --account demo-account" in shown.stderr
    policy = data_dir.resolve() / "demo-policy.toml"
    runtime = Runtime.open(make_settings(data_dir, url, license={"policy_file": policy}))
    try:
        title = json.loads(_run(data_dir, url, "titles", "show", "demo-clip", "--json").stdout)
        kids = sorted({KeyId.from_hex(s["kid"]).b64url for s in title["streams"]})
        with TestClient(create_app(runtime)) as client:
            for _ in range(2):  # a page reload re-uses the demo token: the demo policy allows it
                answer = client.post("/license/clearkey", content=json.dumps({"kids": kids}),
                                     headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text
    finally:
        runtime.close()
    again = _run(data_dir, url, "demo", "--source", str(media_dir / "lavfi_testsrc.mp4"), "--name", "demo-clip",
                 "--no-serve")
    assert again.returncode == 0, again.stderr  # idempotent: a second `make run` reuses everything
    # "why it plays" explained the built-in policy while the demo server decided with the demo one
    explained = _run(data_dir, url, "policy", "explain", "--account", "demo-account", "--device", "demo-browser",
                     "--title", "demo-clip", "--ip", "127.0.0.1", "--json")
    assert explained.returncode == 0, explained.stderr
    decision = json.loads(explained.stdout)
    assert decision["policy"].startswith("demo@") and decision["granted"] is True, decision
    assert (data_dir / "reelguard.toml").read_text().count("policy_file") == 1
