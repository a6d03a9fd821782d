"""Settings precedence and validation; blob keys cannot escape the blob folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.settings import MOVED_SETTINGS, Settings
from reelguard.store.blobs import validate_blob_key


def test_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REELGUARD_STORE__DATABASE_URL", "REELGUARD_DATA_DIR", "REELGUARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load(config_file=tmp_path / "absent.toml", data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'reelguard.db').resolve()}"
    assert settings.resolved_kek_file == (tmp_path / "kek.bin").resolve()
    assert settings.media.ladder == (360, 540, 720, 1080) and settings.media.segment_seconds == 4


def test_environment_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "reelguard.toml"
    config.write_text("[media]\nsegment_seconds = 6\n\n[server]\nport = 9000\nhost = '0.0.0.0'\n")
    monkeypatch.setenv("REELGUARD_SERVER__PORT", "9100")
    settings = Settings.load(config_file=config)
    assert (settings.media.segment_seconds, settings.server.port, settings.server.host) == (6, 9100, "0.0.0.0")


def test_a_whole_section_can_come_from_the_environment_as_json(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGUARD_LICENSE_PROXY__UPSTREAMS", '{"widevine": "https://wv.example/license"}')
    monkeypatch.setenv("REELGUARD_TOKENS", '{"audience": "aud-1", "leeway_seconds": 5}')
    settings = Settings.load(config_file=tmp_path / "absent.toml")
    assert settings.license_proxy.upstreams == {"widevine": "https://wv.example/license"}
    assert (settings.tokens.audience, settings.tokens.leeway_seconds, settings.tokens.issuer) == (
        "aud-1", 5, "reelguard-backend")


@pytest.mark.parametrize(("sections", "message"), [
    ({"media": {"segment_seconds": 0}}, "media.segment_seconds"),
    ({"media": {"ladder": (361,)}}, "positive even heights"),
    ({"server": {"port": 70000}}, "server.port"),
    ({"license": {"no_such_knob": 1}}, "license.no_such_knob: Extra inputs are not permitted"),
])
def test_invalid_settings_are_configuration_errors(tmp_path: Path, sections: dict[str, dict[str, object]],
                                                   message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Settings.load(config_file=tmp_path / "absent.toml", **sections)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Settings.load(config_file=tmp_path / "absent.toml").replaced(**sections)


def test_replaced_changes_one_field_and_keeps_the_rest(tmp_path: Path) -> None:
    settings = Settings.load(config_file=tmp_path / "absent.toml", data_dir=tmp_path,
                             license={"cache_seconds": 5.0, "stream_grace_seconds": 30})
    changed = settings.replaced(license={"cache_seconds": 0.0})
    assert (changed.license.cache_seconds, changed.license.stream_grace_seconds) == (0.0, 30)
    assert changed.data_dir == tmp_path and settings.license.cache_seconds == 5.0


OLD_NAME_HINT = ("'license_cache_seconds' is now [license] cache_seconds "
                 "(environment variable REELGUARD_LICENSE__CACHE_SECONDS)")


def test_a_flat_name_in_the_file_names_its_new_place(tmp_path: Path) -> None:
    config = tmp_path / "reelguard.toml"
    config.write_text("license_cache_seconds = 3\n")
    with pytest.raises(ConfigurationError, match=re.escape(OLD_NAME_HINT)) as raised:
        Settings.load(config_file=config)
    assert str(config) in str(raised.value)


def test_a_flat_name_in_the_environment_names_its_new_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown environment variables are ignored by pydantic: an old one would silently stop working."""
    monkeypatch.setenv("REELGUARD_LICENSE_CACHE_SECONDS", "3")
    monkeypatch.setenv("REELGUARD_DATABASE_URL", "sqlite:////tmp/x.db")
    with pytest.raises(ConfigurationError, match="set in the environment") as raised:
        Settings.load(config_file=tmp_path / "absent.toml")
    assert OLD_NAME_HINT in str(raised.value)
    assert "'database_url' is now [store] database_url (environment variable REELGUARD_STORE__DATABASE_URL)" in str(
        raised.value)


def test_a_flat_name_in_code_names_its_new_place(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(OLD_NAME_HINT)):
        Settings.load(config_file=tmp_path / "absent.toml", license_cache_seconds=3)
    with pytest.raises(ConfigurationError, match=re.escape("'unsafe_skip_license_policy' is now [license] "
                                                           "unsafe_skip_policy")):
        Settings.load(config_file=tmp_path / "absent.toml").replaced(unsafe_skip_license_policy=True)


def test_every_flat_name_points_at_a_field_that_exists() -> None:
    for old, (section, field) in MOVED_SETTINGS.items():
        assert field in type(getattr(Settings(), section)).model_fields, old
    declared = {(name, field) for name, info in Settings.model_fields.items() if name != "data_dir"
                for field in info.annotation.model_fields}  # type: ignore[union-attr]
    assert set(MOVED_SETTINGS.values()) <= declared


@pytest.mark.parametrize(("existing", "expected"), [
    ("", '[license]\npolicy_file = "/d/demo-policy.toml"  # written by `reelguard demo`\n'),
    ("[server]\nport = 9000", '[server]\nport = 9000\n\n[license]\npolicy_file = "/d/demo-policy.toml"  '
     "# written by `reelguard demo`\n"),
    ("# mine\n[license]  # ours\ncache_seconds = 1\n[server]\nport = 1\n",
     '# mine\n[license]  # ours\npolicy_file = "/d/demo-policy.toml"  # written by `reelguard demo`\n'
     "cache_seconds = 1\n[server]\nport = 1\n"),
])
def test_the_demo_names_its_policy_in_the_files_license_table(existing: str, expected: str) -> None:
    from reelguard.cli.demo import with_license_policy

    assert with_license_policy(existing, Path("/d/demo-policy.toml"), Path("/d/reelguard.toml")) == expected


def test_the_demo_says_when_it_cannot_add_its_policy() -> None:
    from reelguard.cli.demo import with_license_policy

    with pytest.raises(ConfigurationError, match="add 'policy_file"):
        with_license_policy('license = { cache_seconds = 1 }\n', Path("/d/p.toml"), Path("/d/reelguard.toml"))


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
    settings = Settings.load(config_file=tmp_path / "none.toml", data_dir=tmp_path,
                             server={"worker_healthcheck_seconds": 90, "log_level": "warning", "log_format": "json"})
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
