"""The suspect's decoded frames, kept on local disk so that trace decodes the copy once.

Trace needs the copy twice: first all of it, to find where it lies in the title and how
it is warped, then again frame by frame, to read the mark through that warp. Decoding it
a second time costs as much as the first; the frames of the first read are kept here
instead — raw, exactly as decoded, so detection sees the same pixels either way::

    with FrameSpool.create(work_dir, (640, 360), budget_bytes=4 << 30, expected_frames=n) as spool:
        for when, picture in gray_frames(path, 640, 360):
            spool.add(when, picture)          # False once the budget is spent: the spool is dropped
        if spool.kept:
            for when, picture in spool.frames():   # the same frames, from the page cache or disk
                ...

The file is sequential raw gray (``width × height`` bytes a frame) and read back through
a read-only memory map, so it costs page cache, not process memory. A copy whose frames
would exceed the budget is not spooled at all (its length is known from the container)
or stops being spooled when it turns out longer; trace then decodes it again, as before.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

__all__ = ["FrameSpool"]


class FrameSpool:
    """Frames of one size appended once, then read back in order (see the module docstring)."""

    def __init__(self, folder: Path, size: tuple[int, int], budget_bytes: int) -> None:
        self._size = size
        self._frame_bytes = size[0] * size[1]
        self._budget_frames = budget_bytes // self._frame_bytes
        self._times: list[float] = []
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        if self._budget_frames > 0:
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix="trace-frames-", suffix=".raw", dir=folder)
            self._file, self._path = os.fdopen(handle, "wb"), Path(name)

    @classmethod
    def create(cls, folder: Path, size: tuple[int, int], *, budget_bytes: int, expected_frames: int) -> FrameSpool:
        """A spool, or one that keeps nothing when ``expected_frames`` would not fit the budget."""
        fits = expected_frames * size[0] * size[1] <= budget_bytes
        return cls(folder, size, budget_bytes if fits else 0)

    @property
    def kept(self) -> bool:
        """Whether every frame added is here to read back."""
        return self._path is not None

    def add(self, when: float, picture: NDArray[np.uint8]) -> bool:
        """Keep one frame; False (and everything dropped) once the budget is spent."""
        if self._file is None:
            return False
        if len(self._times) >= self._budget_frames:
            self.close()
            return False
        if picture.shape != (self._size[1], self._size[0]) or picture.dtype != np.uint8:
            raise ValueError(f"expected a {self._size[0]}x{self._size[1]} uint8 frame, got {picture.shape} "
                             f"{picture.dtype}")
        self._file.write(np.ascontiguousarray(picture).data)
        self._times.append(when)
        return True

    def frames(self) -> Iterator[tuple[float, NDArray[np.uint8]]]:
        """The frames added, in order, with their times."""
        if self._file is None or self._path is None:
            raise RuntimeError("the spool kept no frames: decode the copy again")
        self._file.flush()
        if not self._times:
            return
        stored = np.memmap(self._path, dtype=np.uint8, mode="r",
                           shape=(len(self._times), self._size[1], self._size[0]))
        try:
            for when, picture in zip(self._times, stored, strict=True):
                yield when, np.array(picture)  # a copy: the caller may keep it past the map
        finally:
            del stored

    def close(self) -> None:
        """Delete the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None

    def __enter__(self) -> FrameSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
