"""How a long job reports progress: ``on_progress(step, done, total)``, nothing else.

Services take a ``Progress`` callback and call it as each step advances, and once more
with ``done == total`` when the step is finished — so a bar at 100 % means finished, and
one short of it means the step did not end. Shells render it (``cli._shared.work_progress``);
everything else passes ``no_progress``::

    def rebuild(self, on_progress: Progress = no_progress) -> ...:
        on_progress("read", done, len(titles))
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress"]

Progress = Callable[[str, float, float], None]  # (step, done, total)


def no_progress(_step: str, _done: float, _total: float) -> None:
    """A ``Progress`` that reports nowhere."""
    return None
