"""Settings precedence and validation; blob keys cannot escape the blob folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.settings import Settings
from reelguard.store.blobs import validate_blob_key


def test_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REELGUARD_DATABASE_URL", "REELGUARD_DATA_DIR", "REELGUARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load(config_file=tmp_path / "absent.toml", data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'reelguard.db').resolve()}"
    assert settings.resolved_kek_file == (tmp_path / "kek.bin").resolve()
    assert settings.ladder == (360, 540, 720, 1080) and settings.segment_seconds == 4


def test_environment_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "reelguard.toml"
    config.write_text("segment_seconds = 6\nport = 9000\n")
    monkeypatch.setenv("REELGUARD_PORT", "9100")
    settings = Settings.load(config_file=config)
    assert (settings.segment_seconds, settings.port) == (6, 9100)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("segment_seconds", 0, "segment_seconds"),
    ("ladder", (361,), "positive even heights"),
    ("port", 70000, "port"),
])
def test_invalid_settings_are_configuration_errors(tmp_path: Path, field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.load(config_file=tmp_path / "absent.toml", **{field: value})


def test_unreadable_config_file(tmp_path: Path) -> None:
    config = tmp_path / "reelguard.toml"
    config.write_text("this is = = not toml")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        Settings.load(config_file=config)


@pytest.mark.parametrize("key", ["../kek.bin", "/etc/passwd", "packages/../../x", "a//b", "", ".hidden", "a/b/"])
def test_blob_keys_cannot_escape(key: str) -> None:
    with pytest.raises(InvalidInput, match="blob key"):
        validate_blob_key(key)


def test_serve_hands_the_worker_health_check_and_logging_to_uvicorn(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers slower than uvicorn's fixed 5 s health check were killed and replaced, silently, for minutes."""
    import os
    import pickle

    import uvicorn.supervisors

    from reelguard.cli.serve import run_server
    from reelguard.web.app import AppFactory, Role

    seen: dict[str, object] = {}

    class Supervisor:  # stands in for uvicorn's: records what it was given, starts nothing
        def __init__(self, config: uvicorn.Config, sockets: list[object]) -> None:
            seen.update(config=config, sockets=sockets)

        def run(self) -> None:
            for sock in seen["sockets"]:  # type: ignore[attr-defined]
                sock.close()

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Supervisor)
    environment = dict(os.environ)
    settings = Settings.load(config_file=tmp_path / "none.toml", data_dir=tmp_path, worker_healthcheck_seconds=90,
                             log_level="warning", log_format="json")
    run_server(settings, "127.0.0.1", 0, 2, role="license")
    config = seen["config"]
    assert isinstance(config, uvicorn.Config)
    assert config.timeout_worker_healthcheck == 90 and config.workers == 2 and config.access_log is False
    assert config.log_config["formatters"]["default"]["()"].endswith("JsonFormatter")  # type: ignore[index]
    assert config.log_config["loggers"]["reelguard"]["level"] == "WARNING"  # type: ignore[index]
    # each worker is handed the settings themselves (pickled), never the environment
    assert dict(os.environ) == environment
    factory = pickle.loads(pickle.dumps(config.app))
    assert factory == AppFactory(settings, Role.LICENSE) and config.factory
