"""What the outside world sees of subscribers: accounts, devices, grants and title rights.

Frozen records built from the store's rows, each with ``to_json`` — the CLI's ``--json``
and the integration API answer with exactly these (times as ISO 8601 UTC strings)::

    AccountView.of(row, devices, grants).to_json()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from reelguard.store.models import AccountRow, DeviceRow, GrantRow, TitleRightsRow

__all__ = ["AccountSummary", "AccountView", "DeviceView", "GrantView", "RightsView"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class DeviceView:
    account: str
    id: str
    type: str
    security_level: str
    hdcp: str
    status: str
    registered_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, row: DeviceRow) -> DeviceView:
        return cls(row.account_id, row.id, row.type, row.security_level, row.hdcp, row.status,
                   row.registered_at.isoformat(), _iso(row.revoked_at))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GrantView:
    title: str
    kind: str
    granted_at: str
    expires_at: str | None
    first_played_at: str | None

    @classmethod
    def of(cls, row: GrantRow) -> GrantView:
        return cls(row.title, row.kind, row.granted_at.isoformat(), _iso(row.expires_at), _iso(row.first_played_at))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AccountSummary:
    id: str
    plan: str
    status: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: AccountRow) -> AccountSummary:
        return cls(row.id, row.plan, row.status, row.created_at.isoformat(), row.updated_at.isoformat())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AccountView:
    id: str
    plan: str
    status: str
    devices: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, row: AccountRow, devices: Sequence[DeviceRow], grants: Sequence[GrantRow]) -> AccountView:
        return cls(row.id, row.plan, row.status, [DeviceView.of(d).to_json() for d in devices],
                   [GrantView.of(g).to_json() for g in grants])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RightsView:
    title: str
    plans: list[str] | None
    territories: list[str] | None
    available_from: str | None
    available_until: str | None
    downloadable: bool
    updated_at: str | None

    @classmethod
    def of(cls, row: TitleRightsRow) -> RightsView:
        return cls(row.title, row.plans, row.territories, _iso(row.available_from), _iso(row.available_until),
                   row.downloadable, _iso(row.updated_at))

    @classmethod
    def none_set(cls, title: str) -> RightsView:
        """A title without rights: no plan includes it (only a purchase or rental plays it)."""
        return cls(title, None, None, None, None, False, None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
