"""Mirrored and turned copies: the mirror folded into a homography, and how a copy shows the picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reelguard.watermark.orientation import AS_SHOWN, MIRRORED, describe


@pytest.mark.parametrize("orientation", [AS_SHOWN, MIRRORED])
def test_the_matrix_moves_each_pixel_where_apply_puts_it(orientation) -> None:  # type: ignore[no-untyped-def]
    picture = np.random.default_rng(3).integers(0, 255, (36, 64)).astype(np.uint8)
    warped = cv2.warpPerspective(picture, orientation.matrix(64, 36), (64, 36), flags=cv2.INTER_NEAREST)
    assert np.array_equal(warped, orientation.apply(picture))


def _turn(degrees: float, width: int = 640, height: int = 360) -> np.ndarray:
    """master → copy: turned ``degrees`` clockwise (image y points down) about the centre."""
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -degrees, 1.0)  # OpenCV: positive = anticlockwise
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(("to_copy", "said"), [
    (np.eye(3), "as shown"),
    (np.diag([0.5, 0.5, 1.0]), "as shown"),  # scaled: not an orientation
    (_turn(1.0), "as shown"),  # under 2°: registration's noise
    (_turn(3.0), "turned 3° clockwise"),
    (_turn(-90.0), "turned 90° anticlockwise"),
    (_turn(180.0), "turned 180°"),
    (MIRRORED.matrix(640, 360), "mirrored"),
    (_turn(90.0) @ MIRRORED.matrix(640, 360), "mirrored and turned 90° clockwise"),
    (np.diag([1.0, -1.0, 1.0]) @ np.array([[1.0, 0, 0], [0, 1, -359], [0, 0, 1]]), "mirrored and turned 180°"),
])
def test_a_copy_is_described_from_the_homography_back_to_the_master(to_copy: np.ndarray, said: str) -> None:
    homography = np.linalg.inv(to_copy)  # registration finds copy → master
    assert describe(homography, 640, 360) == said


def test_a_degenerate_homography_is_described_as_shown() -> None:
    assert describe(np.diag([1.0, 0.0, 1.0]), 640, 360) == "as shown"  # a registration that collapsed a line
