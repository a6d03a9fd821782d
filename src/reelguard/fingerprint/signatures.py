"""The one interface every signature type implements, its stored form, and the registry.

A signature type turns a ``MediaSample`` into a ``Signature``: rows of codes, each with
the time it describes and a small tag (which region of the picture, for instance).
Types are registered under a stable ``name`` that stored signatures and index records
carry, so a learned embedding can later sit beside PDQ and landmarks without touching
either. ``extract`` validates and then calls the type's ``_do_extract`` (template
method), so no type can skip the checks::

    kind = signature_type("pdq-video-v1")
    signature = kind.extract(sample, role="reference")
    assert kind.compare(signature, signature) == 0.0
    assert Signature.from_bytes(signature.to_bytes()) == signature
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.media.sample import MediaSample

__all__ = ["Modality", "Role", "Signature", "SignatureType", "register", "registered_types", "signature_type"]

Modality = Literal["video", "audio"]
Role = Literal["reference", "query"]  # a reference is indexed; a query is searched (and may carry more views)

_MAGIC = b"RGSIG1"
_DTYPES = {"u1": np.uint8, "i4": np.int32, "f4": np.float32}


@dataclass(frozen=True, eq=False)
class Signature:
    """Rows of codes of one type: ``codes[i]`` describes the media at ``times[i]`` seconds, view ``tags[i]``."""

    kind: str
    times: NDArray[np.float32]  # (n,)
    codes: NDArray[np.uint8] | NDArray[np.int32] | NDArray[np.float32]  # (n, width)
    tags: NDArray[np.uint8]  # (n,)

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.codes.ndim != 2 or len(self.codes) != n or self.tags.shape != (n,):
            raise InvalidInput(f"expected {n} codes and {n} tags for {n} times, got codes of shape "
                               f"{self.codes.shape} and tags of shape {self.tags.shape}")

    def __len__(self) -> int:
        return len(self.times)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Signature) and self.kind == other.kind and self.codes.dtype == other.codes.dtype
                and np.array_equal(self.times, other.times) and np.array_equal(self.codes, other.codes)
                and np.array_equal(self.tags, other.tags))

    __hash__ = None  # type: ignore[assignment]  # arrays inside: equal by value, not hashable

    def to_bytes(self) -> bytes:
        """Magic, kind, row count, code width and dtype, then the three arrays little-endian."""
        kind = self.kind.encode()
        dtype = self.codes.dtype.str[1:]
        if dtype not in _DTYPES:
            raise InvalidInput(f"signature codes must be one of {sorted(_DTYPES)}, got {self.codes.dtype}")
        header = _MAGIC + struct.pack("<B", len(kind)) + kind + struct.pack("<II2s", len(self), self.codes.shape[1],
                                                                          dtype.encode())
        return (header + self.times.astype("<f4").tobytes() + self.codes.astype(np.dtype(dtype).newbyteorder("<"))
                .tobytes() + self.tags.astype(np.uint8).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Parse ``to_bytes`` output; anything else is an InvalidInput saying what was wrong."""
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 1:
            raise InvalidInput(f"expected a reelguard signature (starting {_MAGIC!r}), got {data[:8]!r}")
        at = len(_MAGIC)
        kind_length = data[at]
        kind = data[at + 1: at + 1 + kind_length].decode(errors="replace")
        at += 1 + kind_length
        try:
            rows, width, dtype_name = struct.unpack_from("<II2s", data, at)
            dtype = np.dtype(_DTYPES[dtype_name.decode()]).newbyteorder("<")
        except (struct.error, KeyError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"signature {kind!r}: header is cut off or names an unknown code type") from exc
        at += 10
        expected = at + rows * 4 + rows * width * dtype.itemsize + rows
        if len(data) != expected:
            raise InvalidInput(f"signature {kind!r}: expected {expected} bytes for {rows} rows of width {width}, "
                               f"got {len(data)}")
        times = np.frombuffer(data, "<f4", rows, at).astype(np.float32)
        at += rows * 4
        codes = np.frombuffer(data, dtype, rows * width, at).reshape(rows, width).astype(dtype.newbyteorder("="))
        tags = np.frombuffer(data, np.uint8, rows, at + rows * width * dtype.itemsize).copy()
        return cls(kind, times, codes, tags)


class SignatureType(ABC):
    """A way of describing media for recognition: extract, compare, and (via ``Signature``) serialise."""

    name: ClassVar[str]
    modality: ClassVar[Modality]
    picture_rate: ClassVar[float] = 0.0  # what the type needs from ``read_media`` (pictures per second …)
    picture_size: ClassVar[int] = 0
    audio_rate: ClassVar[int] = 0

    def extract(self, sample: MediaSample, *, role: Role) -> Signature:
        """The signature of ``sample``; an empty one when the sample lacks this type's modality."""
        if (self.modality == "video" and not sample.has_video) or (self.modality == "audio" and not sample.has_audio):
            return self.empty()
        if self.modality == "video" and sample.pictures.shape[1:] != (self.picture_size, self.picture_size):
            raise InvalidInput(f"{self.name} expects {self.picture_size}×{self.picture_size} pictures, "
                               f"got {sample.pictures.shape[1:]}")
        if self.modality == "audio" and sample.audio_rate != self.audio_rate:
            raise InvalidInput(f"{self.name} expects audio at {self.audio_rate} Hz, got {sample.audio_rate} Hz")
        signature = self._do_extract(sample, role)
        assert signature.kind == self.name
        return signature

    def compare(self, a: Signature, b: Signature) -> float:
        """Distance in [0, 1] of ``a`` from ``b``: 0 when every row of ``a`` is found in ``b``."""
        for signature in (a, b):
            if signature.kind != self.name:
                raise InvalidInput(f"{self.name} compares its own signatures, got one of kind {signature.kind!r}")
        if not len(a):
            return 0.0 if not len(b) else 1.0
        return self._do_compare(a, b) if len(b) else 1.0

    @abstractmethod
    def empty(self) -> Signature:
        """A signature with no rows (the sample had nothing this type can read)."""

    @abstractmethod
    def _do_extract(self, sample: MediaSample, role: Role) -> Signature: ...

    @abstractmethod
    def _do_compare(self, a: Signature, b: Signature) -> float: ...


_REGISTRY: dict[str, SignatureType] = {}


def register(kind: SignatureType) -> SignatureType:
    """Add a signature type under its name; a second type under the same name is a configuration error."""
    existing = _REGISTRY.get(kind.name)
    if existing is not None and type(existing) is not type(kind):
        raise ConfigurationError(f"signature type {kind.name!r} is registered twice ({type(existing).__name__} "
                                 f"and {type(kind).__name__})")
    _REGISTRY[kind.name] = kind
    return kind


def signature_type(name: str) -> SignatureType:
    """The registered type called ``name``, or a ConfigurationError listing the ones there are."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigurationError(f"no signature type named {name!r}; registered: {sorted(_REGISTRY)}") from None


def registered_types() -> list[SignatureType]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
