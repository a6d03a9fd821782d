"""Shared fixtures: settings on a fresh database, the test media, a packaged sample title.

The database is SQLite by default. When ``REELGUARD_STORE__DATABASE_URL`` names a PostgreSQL
server (as ``.ci/run``'s second pass does), every test gets its own freshly created
database on that server, so the suite runs unchanged on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.ingest.records import TitleView
from reelguard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from fetch_test_media import fetch  # noqa: E402

POSTGRES_URL = os.environ.get("REELGUARD_STORE__DATABASE_URL", "")
PROTOCOL_POLICY = ROOT / "tests" / "assets" / "policy_protocol_tests.toml"
SAMPLE_TITLE = "bbb"
OTHER_TITLE = "testsrc"


def pytest_report_header() -> str:
    return f"reelguard database: {'PostgreSQL' if POSTGRES_URL.startswith('postgresql') else 'SQLite'}"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    fetch(ROOT / "media")
    return ROOT / "media"


@pytest.fixture(scope="session")
def database_url_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """Makes a fresh, empty database URL per call (SQLite file, or a new PostgreSQL database)."""
    created: list[str] = []
    if not POSTGRES_URL.startswith("postgresql"):
        yield lambda: f"sqlite:///{tmp_path_factory.mktemp('db') / 'reelguard.db'}"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"rg_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def read_without_dropping_sqlite_locks(path: Path) -> bytes:
    """A file's bytes, read by a child process.

    Closing *any* descriptor of a SQLite database releases every POSIX lock this process
    holds on it (https://sqlite.org/howtocorrupt.html §2.2), so a plain ``read_bytes()``
    of an open database lets another process delete the WAL under this one's connections.
    """
    code = "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True).stdout


def make_settings(data_dir: Path, database_url: str, **sections: dict[str, object]) -> Settings:
    """Settings on ``data_dir`` and ``database_url``, with some fields of some sections changed."""
    loaded = Settings.load(config_file=data_dir / "none.toml", data_dir=data_dir, store={"database_url": database_url})
    return loaded.replaced(**sections)


@pytest.fixture
def settings(tmp_path: Path, database_url_factory: Callable[[], str]) -> Settings:
    return make_settings(tmp_path / "data", database_url_factory())


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def subscribe(runtime: Runtime, account: str, devices: list[str], *, titles: list[str], plan: str = "standard",
              security_level: str = "software", hdcp: str = "none") -> AccountService:
    """An active account on ``plan`` with registered devices, and ``titles`` in that plan."""
    accounts = AccountService(runtime.db, runtime.clock)
    accounts.create_account(account, plan=plan)
    for device in devices:
        accounts.register_device(account, device, type="browser", security_level=security_level, hdcp=hdcp)
    for title in titles:
        accounts.set_title_rights(title, plans=[plan], downloadable=True)
    return accounts


class PackagedCatalog:
    """A runtime with two ready titles: the sample (bbb, 720p + audio) and a synthetic one."""

    def __init__(self, runtime: Runtime, sample: TitleView, other: TitleView) -> None:
        self.runtime, self.sample, self.other = runtime, sample, other

    def token(self, title: str = SAMPLE_TITLE, ttl: int = 300, now: datetime | None = None, **kw: str) -> str:
        return self.runtime.signer.issue(
            account=kw.get("account", "acct-1"), title=title, device=kw.get("device", "dev-1"),
            ttl_seconds=ttl, now=now or datetime.now(UTC),
        )


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory, database_url_factory: Callable[[], str],
            media_dir: Path) -> Iterator[PackagedCatalog]:
    data_dir = tmp_path_factory.mktemp("catalog")
    rt = Runtime.open(make_settings(data_dir, database_url_factory(), license={"policy_file": PROTOCOL_POLICY}))
    service = rt.ingest_service()
    sample = service.add_title(media_dir / "bigbuckbunny.mp4", name=SAMPLE_TITLE)
    other = service.add_title(media_dir / "lavfi_testsrc.mp4", name=OTHER_TITLE)
    subscribe(rt, "acct-1", ["dev-1"], titles=[SAMPLE_TITLE, OTHER_TITLE])
    yield PackagedCatalog(rt, sample, other)
    rt.close()
