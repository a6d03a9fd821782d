"""Sending notices: queued once, delivered by SMTP with retries, never sent twice, every attempt on record.

``queue`` drafts a case's notices (``notices``) and keeps each new one — its text and its
data an evidence record — in the transaction that appends it; a notice whose idempotency
key is already kept is the same notice, so queueing again adds nothing. ``deliver_due``
takes the notices whose time has come, marks each ``sending`` before it talks to the
relay, and records the relay's answer: accepted → ``sent`` (the case moves to
``noticed``); refused for now or timed out → retried after a doubling wait; refused for
good (5xx) or out of attempts → ``failed``. Each message carries a Message-ID made from
the idempotency key, so even a retry after a relay that accepted and then dropped the
connection is the same message to the recipient. The relay's password comes from a 0600
file and appears in no record, log or error::

    desk = NoticeDesk(db, cases, relay, sender, recipients, clock)
    desk.queue(case_id, "dmca_512d", actor="rule:indexer-link@default/2026-12-04")
    desk.deliver_due()
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from sqlalchemy import select

from reelguard.enforcement.cases import CaseService, check_actor
from reelguard.enforcement.notices import DraftNotice, Recipient, Sender, draft_notices
from reelguard.secretfiles import read_secret_text
from reelguard.store.cases import add_event, lock_case
from reelguard.store.models import NoticeRow

__all__ = ["Delivery", "NoticeDesk", "SmtpRelay"]

_log = logging.getLogger(__name__)
SENDING_LEASE = timedelta(minutes=10)  # a worker that died mid-send: its notice is tried again after this


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    tls: str  # auto, require, off
    timeout_seconds: float
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None  # PEM CAs the relay's certificate must chain to (None: the system's)

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        return read_secret_text(self.password_file, "SMTP relay password")


@dataclass(frozen=True)
class Delivery:
    notice_id: str
    status: str
    answer: str

    def to_json(self) -> dict[str, str]:
        return {"notice": self.notice_id, "status": self.status, "answer": self.answer}


class _Refused(Exception):
    def __init__(self, answer: str, *, permanent: bool) -> None:
        super().__init__(answer)
        self.answer, self.permanent = answer, permanent


class NoticeDesk:
    def __init__(self, cases: CaseService, relay: SmtpRelay | None, sender: Sender, recipients: Sequence[Recipient],
                 clock: Callable[[], datetime], *, retry_after: timedelta = timedelta(minutes=5),
                 max_attempts: int = 8) -> None:
        self.cases, self.relay, self.sender, self.recipients = cases, relay, sender, tuple(recipients)
        self.clock, self.retry_after, self.max_attempts = clock, retry_after, max_attempts
        self.db = cases.db

    def queue(self, case_id: str, kind: str, *, actor: str) -> tuple[list[str], list[str]]:
        """Draft and keep the case's notices of ``kind``; (the notice ids, the places no recipient covers)."""
        check_actor(actor)
        case = self.cases.get(case_id)
        evidence = self._evidence(case.id)
        drafts, unreachable = draft_notices(kind, case, self.sender, self.recipients, evidence, self.clock())
        ids = [self._keep(case.id, draft, actor) for draft in drafts]
        if unreachable:
            self.cases.record(case.id, kind="notice_unaddressed", actor=actor,
                              reason=f"no recipient for {len(unreachable)} places of a {kind} notice",
                              detail={"kind": kind, "places": unreachable})
        return ids, unreachable

    def _evidence(self, case_id: str) -> dict[str, Any]:
        """What the notice cites: the case's records and a checkpoint that covers them."""
        size, _ = self.cases.log.checkpoint()
        return {"origin": self.cases.log.origin, "records": self.cases.store.evidence(case_id), "tree_size": size,
                "root": self.cases.log.root(size).hex()}

    def _keep(self, case_id: str, draft: DraftNotice, actor: str) -> str:
        with self.cases.log.transaction() as t:
            existing = t.session.scalar(select(NoticeRow.id).where(NoticeRow.idempotency_key ==
                                                                   draft.idempotency_key))
            if existing is not None:
                return existing
            case = lock_case(t.session, case_id)
            notice_id = uuid.uuid4().hex
            domain = self.sender.email.rpartition("@")[2] or "reelguard.local"
            record = {"case_id": case_id, "notice_id": notice_id, "kind": draft.kind, "recipient": draft.recipient,
                      "subject": draft.subject, "body": draft.body, "data": draft.data,
                      "idempotency_key": draft.idempotency_key, "actor": actor}
            position = t.append("notice.drafted", record)
            t.session.add(NoticeRow(id=notice_id, case_id=case_id, kind=draft.kind, recipient=draft.recipient,
                                    idempotency_key=draft.idempotency_key,
                                    message_id=f"<{draft.idempotency_key}@{domain}>", subject=draft.subject,
                                    body=draft.body, data=draft.data | {"attachments": draft.attachments},
                                    status="queued", attempts=0, next_attempt_at=t.now, last_error=None,
                                    relay_answer=None, created_at=t.now, sent_at=None))
            add_event(t.session, case, at=t.now, actor=actor, kind="notice", reason=f"{draft.kind} notice to "
                      f"{draft.recipient} queued", detail={"notice_id": notice_id}, position=position)
            return notice_id

    # -- delivery ------------------------------------------------------------------------
    def deliver_due(self, *, limit: int = 100) -> list[Delivery]:
        """Send every notice whose time has come; what became of each."""
        if self.relay is None:
            return []
        done: list[Delivery] = []
        while len(done) < limit:
            notice = self._claim()
            if notice is None:
                break
            done.append(self._send(notice))
        return done

    def _claim(self) -> NoticeRow | None:
        now = self.clock()
        with self.db.serialized("notice_claims") as session:  # claimers in turn: one notice, one sender
            row = session.scalars(select(NoticeRow).where(  # "sending" and due: its sender died mid-send
                NoticeRow.status.in_(("queued", "sending")), NoticeRow.next_attempt_at <= now)
                .order_by(NoticeRow.next_attempt_at, NoticeRow.id).limit(1)).first()
            if row is None:
                return None
            row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now + SENDING_LEASE
            session.flush()
            session.expunge(row)
            return row

    def _send(self, notice: NoticeRow) -> Delivery:
        assert self.relay is not None
        try:
            answer = _submit(self.relay, self._message(notice), notice.recipient)
        except _Refused as refused:
            return self._failed(notice, refused.answer, permanent=refused.permanent)
        return self._sent(notice, answer)

    def _message(self, notice: NoticeRow) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.sender.name, self.sender.email))
        message["To"] = notice.recipient
        message["Subject"] = notice.subject
        message["Message-ID"] = notice.message_id
        message["Date"] = format_datetime(notice.created_at)
        message["X-Reelguard-Notice"] = notice.idempotency_key
        message.set_content(notice.body)
        for name, text in (notice.data.get("attachments") or {}).items():
            message.add_attachment(text.encode(), maintype="application", subtype="xml", filename=name)
        return message

    def _sent(self, notice: NoticeRow, answer: str) -> Delivery:
        now = self.clock()
        with self.cases.log.transaction() as t:
            row = t.session.get(NoticeRow, notice.id)
            case = lock_case(t.session, notice.case_id)
            assert row is not None
            row.status, row.sent_at, row.relay_answer, row.last_error = "sent", now, answer, None
            position = t.append("notice.delivered", {"case_id": case.id, "notice_id": row.id,
                                                     "recipient": row.recipient, "attempt": row.attempts,
                                                     "relay_answer": answer, "message_id": row.message_id})
            add_event(t.session, case, at=t.now, actor="system", kind="notice_delivered",
                      reason=f"{row.kind} notice to {row.recipient} accepted by the relay: {answer}",
                      detail={"notice_id": row.id}, position=position)
            first = case.state == "evidence"
        if first:
            self.cases.transition(notice.case_id, "noticed", actor="system",
                                  reason=f"{notice.kind} notice {notice.id} delivered to {notice.recipient}")
        return Delivery(notice.id, "sent", answer)

    def _failed(self, notice: NoticeRow, answer: str, *, permanent: bool) -> Delivery:
        now = self.clock()
        give_up = permanent or notice.attempts >= self.max_attempts
        with self.cases.log.transaction() as t:
            row = t.session.get(NoticeRow, notice.id)
            case = lock_case(t.session, notice.case_id)
            assert row is not None
            row.last_error, row.relay_answer = answer, answer
            row.status = "failed" if give_up else "queued"
            row.next_attempt_at = now + self.retry_after * (2 ** (row.attempts - 1))
            position = t.append("notice.attempt", {"case_id": case.id, "notice_id": row.id, "attempt": row.attempts,
                                                   "answer": answer, "gave_up": give_up})
            add_event(t.session, case, at=t.now, actor="system", kind="notice_attempt",
                      reason=f"{row.kind} notice to {row.recipient}, attempt {row.attempts}: {answer}"
                      + (" — given up" if give_up else f"; next try at {row.next_attempt_at.isoformat()}"),
                      detail={"notice_id": row.id}, position=position)
        _log.warning("notice %s to %s not delivered (attempt %d): %s", notice.id, notice.recipient,
                     notice.attempts, answer)
        return Delivery(notice.id, "failed" if give_up else "will retry", answer)


def _submit(relay: SmtpRelay, message: EmailMessage, recipient: str) -> str:
    """Hand the message to the relay; its answer, or ``_Refused`` saying why not (and whether to try again)."""
    try:
        with smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_seconds) as smtp:
            smtp.ehlo()
            if relay.tls != "off" and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context(cafile=str(relay.ca_file) if relay.ca_file
                                                                 else None))
                smtp.ehlo()
            elif relay.tls == "require":
                raise _Refused(f"the relay {relay.host}:{relay.port} does not offer STARTTLS, and [notices] "
                               "smtp_tls = 'require'", permanent=False)
            if relay.username:
                smtp.login(relay.username, relay.password() or "")
            sender = str(message["From"]).rpartition("<")[2].rstrip(">")
            _expect("MAIL FROM", smtp.mail(sender), (250,))
            _expect("RCPT TO", smtp.rcpt(recipient), (250, 251))
            # CRLF lines (smtplib sends bytes as they are); SMTPDataError when DATA itself is refused
            return _expect("DATA", smtp.data(message.as_bytes(policy=SMTP_POLICY)), (250,))
    except _Refused:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise _Refused(f"the relay refused the login: {exc.smtp_code}", permanent=False) from None
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise _Refused(f"{exc.smtp_code} {said}", permanent=exc.smtp_code >= 500) from None
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise _Refused(f"the relay {relay.host}:{relay.port} did not take the message: "
                       f"{type(exc).__name__}: {exc}", permanent=False) from None


def _expect(command: str, reply: tuple[int, bytes], accepted: tuple[int, ...]) -> str:
    """The relay's answer as text; ``_Refused`` (for good on 5xx) when it is not one of ``accepted``."""
    code, text = reply
    answer = f"{code} {text.decode(errors='replace')}"
    if code not in accepted:
        raise _Refused(answer if command == "DATA" else f"{command}: {answer}", permanent=code >= 500)
    return answer
