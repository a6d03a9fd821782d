"""Signed checkpoints of the evidence log: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` envelopes, Ed25519.

A checkpoint says "this log (origin) had this many records (size) with this Merkle
root" and is signed, so anyone holding the log's verifier key can check, offline, that
a bundle's proofs lead to a root the log committed to — and, with a consistency proof,
that two checkpoints describe one history. The formats are the ones Go's
``golang.org/x/mod/sumdb/note``, Sigstore and the transparency-dev witnesses use, so
their tools read ours::

    example.org/reelguard/evidence
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.org/reelguard/evidence Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2…

Key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]; a signature line is the key name and
base64(key ID ‖ Ed25519 signature of the note text). A verifier key is written
``name+hex(key ID)+base64(0x01 ‖ public key)``; a signer key, as Go writes it,
``PRIVATE+KEY+name+hex(key ID)+base64(0x01 ‖ seed)``. Verifying follows the spec: signatures
by unknown keys are ignored, one by a known key that fails rejects the note, and a note
no known key signed is rejected::

    signer = NoteSigner.generate("example.org/reelguard/evidence")
    note = signer.sign(Checkpoint("example.org/reelguard/evidence", 2, root).text())
    checkpoint = Checkpoint.parse(open_note(note, [NoteVerifier(signer.vkey)]))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from reelguard.enforcement.merkle import HASH_SIZE
from reelguard.errors import EvidenceInvalid

__all__ = ["Checkpoint", "NoteSigner", "NoteVerifier", "decode_base64", "open_note"]

ED25519 = 0x01
MAX_NOTE_BYTES = 1 << 20  # a checkpoint with its signatures is a few hundred bytes
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
_NAME = re.compile(r"[^\s+]+")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SIZE = re.compile(r"0|[1-9][0-9]*")


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def decode_base64(text: str, what: str) -> bytes:
    """Standard base64, canonical only: unused low bits set would let two texts carry one value."""
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceInvalid(f"expected {what} in standard base64, got {text[:60]!r}") from None
    if base64.b64encode(value).decode() != text:
        raise EvidenceInvalid(f"expected {what} in canonical base64, got {text[:60]!r}")
    return value


def _vkey(name: str, key_id: bytes, public: bytes) -> str:
    return f"{name}+{key_id.hex()}+{base64.b64encode(bytes([ED25519]) + public).decode()}"


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise EvidenceInvalid(f"expected a key name without spaces or '+', got {name[:80]!r}")
    return name


class NoteVerifier:
    """One Ed25519 verifier key (``name+hex(key ID)+base64(0x01 ‖ key)``)."""

    def __init__(self, vkey: str) -> None:
        parts = vkey.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise EvidenceInvalid(f"expected a verifier key name+keyid+base64key, got {vkey[:100]!r}")
        self.name, key_id, encoded = _checked_name(parts[0]), parts[1], decode_base64(parts[2], "a verifier key")
        if len(encoded) != 33 or encoded[0] != ED25519:
            raise EvidenceInvalid(f"expected an Ed25519 verifier key (0x01 and 32 bytes), got {len(encoded)} bytes "
                                  f"of type {encoded[:1].hex() or 'none'}")
        self.public = encoded[1:]
        self.key_id = _key_id(self.name, self.public)
        if key_id != self.key_id.hex():
            raise EvidenceInvalid(f"verifier key {self.name}: key ID {key_id!r} does not match its key "
                                  f"({self.key_id.hex()})")
        self._key = Ed25519PublicKey.from_public_bytes(self.public)

    @property
    def vkey(self) -> str:
        return _vkey(self.name, self.key_id, self.public)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """The log's Ed25519 signing key under its name."""

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise EvidenceInvalid(f"expected a 32-byte Ed25519 seed, got {len(seed)} bytes")
        self.name, self._key = _checked_name(name), Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = _key_id(name, self.public)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, seed)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """A signer from Go's ``PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)`` (how the key file is kept)."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise EvidenceInvalid("expected a signer key PRIVATE+KEY+name+keyid+base64key (its value is not shown)")
        encoded = decode_base64(parts[4], "a signer key")
        if len(encoded) != 33 or encoded[0] != ED25519:
            raise EvidenceInvalid("expected an Ed25519 signer key (0x01 and a 32-byte seed)")
        signer = cls(parts[2], encoded[1:])
        if parts[3] != signer.key_id.hex():
            raise EvidenceInvalid(f"signer key {parts[2]}: its key ID does not match its key")
        return signer

    @property
    def vkey(self) -> str:
        return _vkey(self.name, self.key_id, self.public)

    @property
    def skey(self) -> str:
        """The signer key as Go writes it (what the 0600 key file holds); never logged or shown."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + seed).decode()}"

    def sign(self, text: str) -> str:
        """``text`` (ending in a newline) as a signed note with this key's signature line."""
        body = _note_text(text)
        signature = base64.b64encode(self.key_id + self._key.sign(body)).decode()
        return f"{text}\n— {self.name} {signature}\n"


def _note_text(text: str) -> bytes:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise EvidenceInvalid("expected note text ending in a newline, without control characters other than newline")
    return text.encode()


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> str:
    """The note's text once a known key's signature on it verifies; ``EvidenceInvalid`` saying why otherwise."""
    raw = note if isinstance(note, bytes) else note.encode()
    if len(raw) > MAX_NOTE_BYTES:
        raise EvidenceInvalid(f"expected a signed note of at most {MAX_NOTE_BYTES} bytes, got {len(raw)}")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EvidenceInvalid("expected a signed note in UTF-8") from None
    if _CONTROL.search(decoded):
        raise EvidenceInvalid("a signed note may hold no control character other than newline")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise EvidenceInvalid("expected note text, a blank line and signature lines, each ending in a newline")
    text, lines = decoded[: split + 1], decoded[split + 2:].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise EvidenceInvalid(f"expected 1 to {MAX_SIGNATURES} signature lines, got {len(lines)}")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = []
    for line in lines:
        match = re.fullmatch(r"— (\S+) (\S+)", line)
        if match is None:
            raise EvidenceInvalid(f"expected a signature line '— <key name> <base64>', got {line[:100]!r}")
        name, blob = match.group(1), decode_base64(match.group(2), "a signature")
        if len(blob) < 5:
            raise EvidenceInvalid(f"signature by {name}: expected a key ID and a signature, got {len(blob)} bytes")
        verifier = known.get((name, blob[:4]))
        if verifier is None:
            continue  # a key we do not know (a witness, an old key): ignored, as the spec says
        if not verifier.verify(text.encode(), blob[4:]):
            raise EvidenceInvalid(f"the signature by {name}+{blob[:4].hex()} does not verify: the note was changed "
                                  f"or signed by another key")
        verified.append(name)
    if not verified:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers) or "none given"
        raise EvidenceInvalid(f"no signature on the note is by a trusted key ({names})")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or "\n" in self.origin or len(self.root) != HASH_SIZE or self.size < 0:
            raise EvidenceInvalid(f"expected a checkpoint with an origin, a size ≥ 0 and a {HASH_SIZE}-byte root")
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str, *, origin: str | None = None) -> Checkpoint:
        """A checkpoint from its note text; ``origin``: the log it must come from."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
            raise EvidenceInvalid("expected a checkpoint: origin, tree size and root hash lines, each non-empty "
                                  "and ending in a newline")
        name, size, root = lines[0], lines[1], decode_base64(lines[2], "the checkpoint's root hash")
        if origin is not None and name != origin:
            raise EvidenceInvalid(f"expected a checkpoint of log {origin!r}, got one of {name!r}")
        if not _SIZE.fullmatch(size):
            raise EvidenceInvalid(f"expected the tree size in decimal without leading zeros, got {size[:40]!r}")
        if len(root) != HASH_SIZE:
            raise EvidenceInvalid(f"expected a {HASH_SIZE}-byte root hash, got {len(root)} bytes")
        return cls(name, int(size), root, tuple(lines[3:-1]))
