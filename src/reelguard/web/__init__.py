"""Web shells: the licence server, key delivery, origin and demo player (ASGI)."""

from reelguard.web.app import create_app

__all__ = ["create_app"]
