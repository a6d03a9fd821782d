"""Subscribers and rights: accounts, their devices, per-title rights and grants."""

from reelguard.accounts.service import AccountService, AccountView

__all__ = ["AccountService", "AccountView"]
