"""Subscribers and rights: accounts, their devices, per-title rights and grants."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.accounts.records import AccountView
    from reelguard.accounts.service import AccountService

__all__ = ["AccountService", "AccountView"]
__getattr__ = lazy_exports(__name__, {"AccountService": "reelguard.accounts.service",
                                      "AccountView": "reelguard.accounts.records"})
