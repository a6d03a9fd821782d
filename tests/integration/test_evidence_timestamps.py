"""RFC 3161 timestamps from a TSA on loopback (``openssl ts``), checked with rfc3161-client."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reelguard.enforcement.checkpoint import NoteSigner
from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.enforcement.timestamp import TimestampAuthority, verify_timestamp
from reelguard.errors import EvidenceInvalid, UpstreamError
from reelguard.store import Database
from reelguard.testing.clock import FixedClock
from tests.tsa_server import LocalTsa, make_authority

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_stamped_checkpoint_verifies_offline_and_only_for_its_own_bytes() -> None:
    note = b"evidence.reelguard.test/log\n37\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    with LocalTsa() as tsa:
        token = TimestampAuthority(tsa.url, roots=[tsa.root]).stamp(note)
    when = verify_timestamp(token, note, [tsa.root])  # the TSA is gone: nothing but the token and the root
    assert when.tzinfo is not None and abs(when - datetime.now(UTC)) < timedelta(minutes=2)
    with pytest.raises(EvidenceInvalid, match="does not verify"):
        verify_timestamp(token, note.replace(b"37", b"38"), [tsa.root])
    with tempfile.TemporaryDirectory() as other:
        stranger, _ = make_authority(Path(other), "another TSA")
    with pytest.raises(EvidenceInvalid, match="does not verify"):
        verify_timestamp(token, note, [stranger])
    with pytest.raises(EvidenceInvalid, match="not an RFC 3161"):
        verify_timestamp(token[:-7], note, [tsa.root])


@pytest.mark.parametrize(("mode", "said"), [("down", "HTTP 503"), ("garbage", "not an RFC 3161")])
def test_a_tsa_that_fails_is_a_clear_error(mode: str, said: str) -> None:
    with LocalTsa() as tsa:
        tsa.mode = mode
        with pytest.raises((UpstreamError, EvidenceInvalid), match=said):
            TimestampAuthority(tsa.url, roots=[tsa.root]).stamp(b"checkpoint\n")


def test_an_unreachable_tsa_is_an_upstream_error() -> None:
    with LocalTsa() as tsa:
        url, root = tsa.url, tsa.root
    with pytest.raises(UpstreamError, match="unreachable"):
        TimestampAuthority(url, roots=[root], timeout_seconds=2).stamp(b"checkpoint\n")


def test_every_checkpoint_is_stamped_and_one_made_while_the_tsa_is_down_is_stamped_later(
        database_url_factory: Callable[[], str]) -> None:
    db = Database.connect(database_url_factory())
    with LocalTsa() as tsa:
        log = EvidenceLog(db, NoteSigner.generate("evidence.reelguard.test/log"), FixedClock(NOW),
                          tsa=TimestampAuthority(tsa.url, roots=[tsa.root]))
        log.append("observation", {"peer": "127.0.0.2"})
        size, note = log.checkpoint()
        token, error = log.store.token(size)
        assert token is not None and error is None
        verify_timestamp(token, note.encode(), [tsa.root])

        tsa.mode = "down"
        log.append("trace", {"accused": "s-1"})
        later, later_note = log.checkpoint()  # signed and kept, not stamped: said, not skipped
        assert later == 2 and log.store.token(later) == (None, "the time-stamping authority answered HTTP 503")
        assert [s for s, _ in log.store.unstamped()] == [2]

        tsa.mode = ""
        assert log.stamp_pending() == []
        token, error = log.store.token(later)
        assert token is not None and error is None
        verify_timestamp(token, later_note.encode(), [tsa.root])
    db.dispose()
