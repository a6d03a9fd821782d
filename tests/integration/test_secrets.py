"""Content keys never appear in logs, error messages or API output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelguard.composition import Runtime
from reelguard.drm.keys import b64url_encode
from reelguard.drm.packaging import run_packager
from reelguard.errors import PackagingError
from reelguard.web.app import create_app


def _key_spellings(runtime: Runtime, title_id: str) -> list[str]:
    with runtime.db.session() as session:
        keys = runtime.keystore.keys_of_title(session, title_id)
    return [s for k in keys for s in (k.key.hex(), k.key.hex().upper(), b64url_encode(k.key))]


def test_ingest_and_refused_licences_log_no_keys(runtime: Runtime, media_dir: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    view = runtime.ingest_service().add_title(media_dir / "lavfi_testsrc.mp4", name="secret-check")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        refused = client.post("/license/clearkey", content=b'{"kids": ["AAECAwQFBgcICQoLDA0ODw"]}')
        listed = client.get("/content/secret-check/dash/manifest.mpd")
    spellings = _key_spellings(runtime, view.id)
    everything = caplog.text + refused.text + listed.text + json.dumps(view.to_json())
    assert spellings and not any(s in everything for s in spellings)


def test_packager_errors_are_scrubbed_of_keys(runtime: Runtime, tmp_path: Path) -> None:
    secret = "00112233445566778899aabbccddeeff"
    echoing_packager = tmp_path / "echoing-packager"  # a stand-in that prints its flag file on failure
    echoing_packager.write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in --flagfile=*) cat "${a#--flagfile=}" >&2;; '
                                'esac; done\nexit 1\n')
    echoing_packager.chmod(0o755)
    from dataclasses import replace

    tools = replace(runtime.tools, packager=str(echoing_packager))
    with pytest.raises(PackagingError) as caught:
        run_packager(tools, ["in=x"], [f"--keys=label=SD:key_id=00:key={secret}"], secrets=[secret])
    assert secret not in str(caught.value) and "[redacted]" in str(caught.value)
