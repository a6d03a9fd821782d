"""Web shells: the licence server, key delivery, origin and demo player (ASGI)."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.web.app import create_app

__all__ = ["create_app"]
__getattr__ = lazy_exports(__name__, {"create_app": "reelguard.web.app"})
