"""Package exports imported on first use, so importing one small module stays small.

A package ``__init__`` that imports its public names eagerly makes ``import
reelguard.drm.keys`` load the key store, SQLAlchemy and the store with it — and the CLI,
whose every command imported every package that way, took seconds to print ``--help``.
Packages declare their exports here instead (and import them under ``TYPE_CHECKING``
so type checkers see the real names)::

    __all__ = ["KeyStore"]
    __getattr__ = lazy_exports(__name__, {"KeyStore": "reelguard.drm.keystore"})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``name`` from ``exports[name]`` when first asked."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
