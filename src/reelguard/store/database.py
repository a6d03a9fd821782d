"""The database: one SQLAlchemy engine, sessions, and migrations run at start-up.

SQLite (a file, WAL mode) is the embedded default; PostgreSQL works through the same
Alembic migrations::

    db = Database.connect("sqlite:///.reelguard/reelguard.db")
    with db.transaction() as session:
        session.add(row)
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from reelguard.errors import ConfigurationError

__all__ = ["SCHEMA_REVISION", "Database"]

_MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_REVISION = "0009"  # the newest migration in migrations/versions


class Database:
    """An engine plus a session factory; ``transaction()`` commits or rolls back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._writing_sessions = sessionmaker(engine.execution_options(reelguard_begin="BEGIN IMMEDIATE"),
                                              expire_on_commit=False)
        self._sqlite = engine.dialect.name == "sqlite"
        self._sqlite_writer = threading.RLock()

    @classmethod
    def connect(cls, url: str, *, migrate: bool = True) -> Database:
        db = cls(_create_engine(url))
        if migrate:
            db.migrate()
        return db

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent).

        A database already at ``SCHEMA_REVISION`` is recognised with one query, without
        importing Alembic (a fifth of a server worker's start); a test pins the constant
        to Alembic's own head, so the shortcut cannot skip a new migration.
        """
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise ConfigurationError(
                f"cannot reach the database at {self.engine.url!r}: {exc.orig}"
            ) from exc

    def _at_head(self) -> bool:
        try:
            with self.engine.connect() as connection:
                revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except (OperationalError, ProgrammingError):
            return False  # no schema yet (or unreachable: migrate() says which)
        return revision == SCHEMA_REVISION

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A read-write transaction: committed when the block ends, rolled back if it raises.

        SQLite: ``BEGIN IMMEDIATE``. A deferred transaction that reads and then writes
        holds a read snapshot; if another connection commits in between, SQLite cannot
        upgrade that snapshot to a write and fails at once with "database is locked"
        (its busy handler does not wait in that case). Taking the write lock up front
        makes a second writer wait its turn instead. Threads of one process queue on a
        mutex first: SQLite's busy handler would make them sleep and retry (1, 2, 5 …
        100 ms), which under load costs far more than waiting in line. Reads that write
        nothing use ``session()``, which does not queue behind writers.
        """
        if self._sqlite:
            with self._sqlite_writer, self._writing_sessions.begin() as session:
                yield session
        else:
            with self._sessions.begin() as session:
                yield session

    @contextmanager
    def serialized(self, lock_key: str) -> Iterator[Session]:
        """A transaction that no other ``serialized`` transaction on ``lock_key`` overlaps.

        SQLite: any write transaction already holds the database's one write lock from
        its start (see ``transaction``), so a read-count-then-insert cannot interleave.
        PostgreSQL: a transaction-scoped advisory lock on the key, so different accounts
        still proceed in parallel.
        """
        if self._sqlite:
            with self.transaction() as session:
                yield session
            return
        with self.engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                                   {"key": lock_key})
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
                session.flush()

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        _ensure_sqlite_file(url)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(
            f"database URL {url!r} is not usable ({exc}); expected e.g. "
            "sqlite:///path/reelguard.db or postgresql+psycopg://user@host/db"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _ensure_sqlite_file(url: str) -> None:
    """The database file (and its WAL and shared-memory files) readable by its owner only.

    It holds wrapped content keys, the decision log and viewers' IP addresses. SQLite
    creates ``-wal`` and ``-shm`` with the mode of the database file, so creating that
    file 0600 before SQLite opens it covers all three; files an older version left
    group- or world-readable are narrowed to 0600.
    """
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    database = Path(path)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        for file in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            if file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
                file.chmod(0o600)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the database file {database}: {exc.strerror}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("reelguard_begin", "BEGIN"))
