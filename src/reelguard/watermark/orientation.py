"""Mirrored copies, and how a copy shows the master's picture (pure).

Mirroring is the first thing a pirate does to dodge recognition. ORB features are
rotation-invariant (a copy turned by 3°, 90° or 180° registers as it is: the homography
turns it back) but not mirror-invariant, so registration also looks at the suspect
mirrored and keeps whichever registers better. The mirror is then folded into the
homography (suspect pixel → mirrored pixel → master pixel), so detection warps the
unchanged suspect frames once::

    to_mirrored = MIRRORED.matrix(width, height)          # picture pixel → mirrored pixel
    homography = registered_on_mirrored @ to_mirrored     # picture pixel → master pixel
    describe(homography, width, height)                   # "mirrored and turned 90° clockwise"
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["AS_SHOWN", "MIRRORED", "ORIENTATIONS", "Orientation", "describe"]

_TURN_REPORTED = 2.0  # degrees: a smaller turn is registration's noise, not something the copy did


@dataclass(frozen=True)
class Orientation:
    """The suspect as registration looks at it: as shown, or mirrored left-right."""

    name: str
    mirror: bool

    def apply(self, picture: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return np.ascontiguousarray(np.fliplr(picture)) if self.mirror else picture

    def matrix(self, width: int, height: int) -> NDArray[np.float64]:
        """3×3 map from a ``width``×``height`` picture's pixel (x, y) to the same pixel in ``apply(picture)``."""
        if not self.mirror:
            return np.eye(3)
        return np.array([[-1.0, 0.0, width - 1], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


AS_SHOWN = Orientation("as shown", mirror=False)
MIRRORED = Orientation("mirrored", mirror=True)
ORIENTATIONS = (AS_SHOWN, MIRRORED)


def describe(homography: NDArray[np.float64], width: int, height: int) -> str:
    """How the copy shows the master's picture, from the homography (copy pixel → master pixel) at its centre.

    "as shown", "mirrored", "turned 3° clockwise", "mirrored and turned 180°": the master →
    copy map's linear part is a turn, after a left-right mirror when its determinant is negative.
    """
    x, y = width / 2, height / 2
    mapped = homography @ np.array([[x, x + 1, x], [y, y, y + 1], [1.0, 1.0, 1.0]])  # the centre, a pixel right, down
    mapped = mapped[:2] / mapped[2]
    jacobian = np.column_stack([mapped[:, 1] - mapped[:, 0], mapped[:, 2] - mapped[:, 0]])
    if abs(np.linalg.det(jacobian)) < 1e-12:
        return AS_SHOWN.name
    to_copy = np.linalg.inv(jacobian)  # master → copy, locally
    mirrored = np.linalg.det(to_copy) < 0
    turn = to_copy @ np.diag([-1.0, 1.0]) if mirrored else to_copy
    # image y points down, so a positive angle from x towards y turns the picture clockwise
    degrees = math.degrees(math.atan2(turn[1, 0], turn[0, 0]))
    parts = [MIRRORED.name] if mirrored else []
    if abs(degrees) >= 180 - _TURN_REPORTED:
        parts.append("turned 180°")
    elif abs(degrees) >= _TURN_REPORTED:
        parts.append(f"turned {abs(degrees):.0f}° {'clockwise' if degrees > 0 else 'anticlockwise'}")
    return " and ".join(parts) if parts else AS_SHOWN.name
