"""``reelguard accounts/devices/rights/policy`` as a user runs them, on the packaged catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelguard.accounts.service import AccountService
from tests.conftest import PROTOCOL_POLICY, SAMPLE_TITLE, PackagedCatalog
from tests.geo_fixtures import GB_IP, US_IP, write_country_db


@pytest.fixture
def run(catalog: PackagedCatalog, tmp_path: Path) -> Iterator[object]:
    settings = catalog.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_DATA_DIR=str(settings.data_dir), REELGUARD_STORE__DATABASE_URL=settings.resolved_database_url,
               REELGUARD_LICENSE__POLICY_FILE=str(PROTOCOL_POLICY),
               REELGUARD_LICENSE__GEOIP_DATABASE=str(write_country_db(tmp_path / "geo.mmdb")))

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)

    yield invoke
    AccountService(catalog.runtime.db, catalog.runtime.clock).set_title_rights(SAMPLE_TITLE, plans=["standard"],
                                                                              downloadable=True)


def test_subscribers_and_explain(run) -> None:  # type: ignore[no-untyped-def]
    for args in (("accounts", "add", "cli-acct", "--plan", "premium"),
                 ("devices", "register", "cli-acct", "tv", "--type", "tv", "--security-level", "hardware",
                  "--hdcp", "2.2"),
                 ("devices", "register", "cli-acct", "laptop", "--type", "browser"),
                 ("devices", "register", "cli-acct", "old-phone", "--type", "mobile"),
                 ("devices", "revoke", "cli-acct", "old-phone"),
                 ("rights", "set", SAMPLE_TITLE, "--plan", "premium", "--plan", "standard", "--territory", "GB",
                  "--downloadable")):
        done = run(*args)
        assert done.returncode == 0, (args, done.stderr)

    granted = json.loads(run("policy", "explain", "--account", "cli-acct", "--device", "laptop", "--title",
                             SAMPLE_TITLE, "--ip", GB_IP, "--json").stdout)
    assert granted["granted"] and granted["country"] == "GB" and granted["tiers"] == ["AUDIO", "HD", "SD"]
    assert granted["per_tier"] == {"AUDIO": "granted", "SD": "granted", "HD": "granted"}
    assert {child["rule"] for child in granted["rules"]["children"]} >= {"territory", "concurrent_streams"}

    abroad = run("policy", "explain", "--account", "cli-acct", "--device", "tv", "--title", SAMPLE_TITLE,
                 "--ip", US_IP)
    assert abroad.returncode == 0 and "DENIED" in abroad.stdout and "territory" in abroad.stdout
    assert "FAIL territory: expected a client in [GB]; got US" in abroad.stdout

    devices = json.loads(run("policy", "what-if", "--account", "cli-acct", "--title", SAMPLE_TITLE, "--ip", GB_IP,
                             "--json").stdout)
    outcome = {d["device"]: (d["granted"], d["reason"].split(":")[0]) for d in devices}
    assert outcome == {"tv": (True, "granted"), "laptop": (True, "granted"),
                       "old-phone": (False, "device_registered")}

    shown = json.loads(run("accounts", "show", "cli-acct", "--json").stdout)
    assert shown["plan"] == "premium" and len(shown["devices"]) == 3


def test_bad_input_gets_clear_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('format = 1\nname = "x"\nversion = "1"\n[[all_of]]\ntype = "max_streams"\n')
    checked = run("policy", "check", str(bad))
    assert checked.returncode == 78 and "unknown rule type 'max_streams'" in checked.stderr
    assert run("policy", "check").returncode == 0
    missing = run("devices", "register", "no-such-account", "tv", "--type", "tv")
    assert missing.returncode == 66 and "no account 'no-such-account'" in missing.stderr
    wrong = run("rights", "set", SAMPLE_TITLE, "--territory", "England")
    assert wrong.returncode == 65 and "ISO 3166-1 alpha-2" in wrong.stderr
    unknown_title = run("policy", "explain", "--account", "a", "--device", "d", "--title", "nope", "--ip", GB_IP)
    assert unknown_title.returncode == 66 and "no title named 'nope'" in unknown_title.stderr
    assert "Traceback" not in checked.stderr + missing.stderr + wrong.stderr + unknown_title.stderr


def test_keyserver_add_client_prints_the_secret_once_and_stores_it_private(run) -> None:  # type: ignore[no-untyped-def]
    added = run("keyserver", "add-client", "cli-packager", "--title", SAMPLE_TITLE, "--json")
    assert added.returncode == 0, added.stderr
    data = json.loads(added.stdout)
    assert len(bytes.fromhex(data["secret"])) == 32 and data["titles"] == [SAMPLE_TITLE]
    path = Path(data["clients_file"])
    assert path.stat().st_mode & 0o777 == 0o600 and data["secret"] in path.read_text()
    again = run("keyserver", "add-client", "cli-packager")
    assert again.returncode == 73 and "already exists" in again.stderr and data["secret"] not in again.stderr
    bad = run("keyserver", "add-client", "no spaces please")
    assert bad.returncode == 65 and "client id" in bad.stderr
