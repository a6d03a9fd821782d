"""Two writers on one database: a read-then-write transaction never fails because another committed.

On SQLite a deferred transaction that has read cannot upgrade to a write once another
connection has committed ("database is locked", raised at once, without waiting). Two
``Database`` objects on one file stand for two processes (the web server and a CLI, or
a test and the server it drives), so the process-local mutex does not hide the case.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from reelguard.store import Database
from reelguard.store.models import AccountRow


def _account(account_id: str) -> AccountRow:
    now = datetime.now(UTC)
    return AccountRow(id=account_id, plan="standard", status="active", created_at=now, updated_at=now)


def test_a_read_then_write_transaction_survives_another_writer(database_url_factory: Callable[[], str]) -> None:
    url = database_url_factory()
    ours, theirs = Database.connect(url), Database.connect(url, migrate=False)
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with theirs.transaction() as session:
                session.add(_account("theirs"))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    try:
        with ours.transaction() as session:
            assert session.get(AccountRow, "ours") is None  # the read that a deferred BEGIN would pin
            writer = threading.Thread(target=other_writer)
            writer.start()
            time.sleep(0.5)  # room for the other writer to commit, if it were let in
            session.add(_account("ours"))
        writer.join(timeout=30)
        assert not writer.is_alive() and errors == []
        with ours.session() as session:
            assert {row.id for row in session.query(AccountRow)} == {"ours", "theirs"}
    finally:
        ours.dispose()
        theirs.dispose()
