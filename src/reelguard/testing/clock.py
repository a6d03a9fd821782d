"""A clock for tests: it reads what it was set to and moves only when told.

    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    service = Service(clock=clock)
    clock.advance(seconds=30)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FixedClock"]


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 1, 1, tzinfo=UTC)
        if self.now.tzinfo is None:
            raise ValueError(f"expected a timezone-aware time, got {self.now!r}")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, *, seconds: float = 0.0, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> datetime:
        """Move forward (or back, with negative amounts) and return the new now."""
        self.now += timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now
