"""The Merkle tree of the evidence log, exactly as RFC 9162 §2.1 defines it: hashes, inclusion and consistency proofs.

Leaves and interior nodes are hashed with different one-byte prefixes (0x00 a leaf,
0x01 two children), so no leaf can pass for a node. A tree of ``n`` leaves splits at the
largest power of two below ``n``; its root is ``MTH`` (§2.1.1). An inclusion proof
(§2.1.3) is the ``PATH`` from a leaf to the root; a consistency proof (§2.1.4) shows a
tree of ``size1`` leaves is the first ``size1`` leaves of a tree of ``size2``, so a log
that rewrote or dropped a past record cannot show consistent checkpoints. Pure: no I/O,
no clock. The hashes of complete subtrees come from a ``NodeSource`` — an in-memory tree
here, the store's node table for the log — so a proof costs O(log n) node lookups::

    tree = MemoryTree([leaf_hash(b"record 1"), leaf_hash(b"record 2")])
    proof = inclusion_proof(tree, index=1, size=2)
    verify_inclusion(leaf_hash(b"record 2"), 1, 2, proof, tree_root(tree, 2))   # raises EvidenceInvalid if not

Verification follows the RFC's algorithms step by step and is tested against the
published RFC 6962/9162 vectors of transparency-dev/merkle, not only against the
proofs this module makes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from reelguard.errors import EvidenceInvalid

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "MemoryTree", "NodeSource", "consistency_proof", "inclusion_proof",
           "leaf_hash", "node_hash", "tree_root", "verify_consistency", "verify_inclusion"]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = HASH(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeSource(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """The root of the complete subtree over leaves [index·2^level, (index+1)·2^level)."""


class MemoryTree:
    """A NodeSource over leaf hashes held in memory (bundles, tests, building small logs)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:  # a pair completed: its parent exists now
            below = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]), from complete subtrees (start is always aligned to the subtree the RFC splits off)."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return source.node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(_mth(source, start, start + k), _mth(source, start + k, end))


def tree_root(source: NodeSource, size: int) -> bytes:
    return _mth(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise EvidenceInvalid(f"expected a leaf index below the tree size {size}, got {index}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root; the proof lists siblings from the leaf up
        k = _split(end - start)
        if index - start < k:
            proof.append(_mth(source, start + k, end))
            end = start + k
        else:
            proof.append(_mth(source, start, start + k))
            start += k
    return proof[::-1]


def consistency_proof(source: NodeSource, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) = SUBPROOF(size1, D[size2], true) (RFC 9162 §2.1.4.1); empty when the sizes are equal."""
    if not 0 < size1 <= size2:
        raise EvidenceInvalid(f"expected 0 < size1 <= size2 for a consistency proof, got {size1} and {size2}")
    proof: list[bytes] = []
    start, end, whole = 0, size2, True  # SUBPROOF(m, D[start:end], whole), m counted from start
    m = size1
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_mth(source, start + k, end))
            end = start + k
        else:
            proof.append(_mth(source, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(_mth(source, start, end))
    return proof[::-1]


def _checked(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise EvidenceInvalid(f"expected {name} of {HASH_SIZE} bytes (SHA-256), got {len(value)}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; ``EvidenceInvalid`` saying which check failed."""
    if index >= size or index < 0:
        raise EvidenceInvalid(f"leaf index {index} is not below the tree size {size}")
    _checked("the leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for position, p in enumerate(proof):
        _checked(f"proof element {position}", p)
        if sn == 0:
            raise EvidenceInvalid(f"the inclusion proof has {len(proof)} elements, more than a tree of {size} needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise EvidenceInvalid(f"the inclusion proof has {len(proof)} elements, fewer than a tree of {size} needs")
    if r != root:
        raise EvidenceInvalid(f"the inclusion proof of leaf {index} leads to root {r.hex()}, not the checkpoint's "
                              f"{root.hex()}")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 §2.1.4.2; ``EvidenceInvalid`` saying which check failed.

    A consistency proof from the empty tree proves nothing and is refused; equal sizes
    need an empty proof and equal roots.
    """
    if size1 > size2:
        raise EvidenceInvalid(f"the first tree ({size1} leaves) is larger than the second ({size2})")
    if size1 == 0:
        raise EvidenceInvalid("a consistency proof from the empty tree proves nothing (size1 is 0)")
    if size1 == size2:
        if proof:
            raise EvidenceInvalid(f"trees of equal size ({size1}) need an empty proof, got {len(proof)} elements")
        if root1 != root2:
            raise EvidenceInvalid(f"two trees of {size1} leaves with different roots: {root1.hex()} and {root2.hex()}")
        return
    if not proof:
        raise EvidenceInvalid(f"expected a consistency proof from {size1} to {size2} leaves, got an empty one")
    _checked("the first root", root1)
    _checked("the second root", root2)
    for position, p in enumerate(proof):
        _checked(f"proof element {position}", p)
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)  # size1 a power of 2: its root is a node
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise EvidenceInvalid(f"the consistency proof has {len(proof)} elements, more than {size1} → {size2} needs")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise EvidenceInvalid(f"the consistency proof has {len(proof)} elements, fewer than {size1} → {size2} needs")
    if fr != root1:
        raise EvidenceInvalid(f"the consistency proof gives {fr.hex()} for the first {size1} leaves, not "
                              f"{root1.hex()}: the log's past was changed")
    if sr != root2:
        raise EvidenceInvalid(f"the consistency proof gives {sr.hex()} for {size2} leaves, not {root2.hex()}")
