"""RFC 9162 Merkle trees, checked against transparency-dev/merkle's published vectors (tests/vectors/…)."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from reelguard.enforcement.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from reelguard.errors import EvidenceInvalid

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "transparency_dev_merkle.json").read_text())
REFERENCE = VECTORS["reference_tree"]
LEAVES = [leaf_hash(bytes.fromhex(h)) for h in REFERENCE["leaf_inputs_hex"]]
TREE = MemoryTree(LEAVES)


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_the_reference_tree_has_the_published_leaf_hashes_and_roots_at_every_size() -> None:
    assert [h.hex() for h in LEAVES] == REFERENCE["leaf_hashes_hex"]
    assert [tree_root(TREE, size).hex() for size in range(9)] == REFERENCE["root_hashes_hex_by_size"]
    assert tree_root(MemoryTree([]), 0) == EMPTY_ROOT


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: v["file"])
def test_inclusion_vectors(vector: dict[str, Any]) -> None:
    leaf, root, proof = _b64(vector["leafHash"]), _b64(vector["root"]), [_b64(p) for p in vector["proof"] or []]
    if vector["wantErr"]:
        with pytest.raises(EvidenceInvalid):
            verify_inclusion(leaf, vector["leafIdx"], vector["treeSize"], proof, root)
        return
    verify_inclusion(leaf, vector["leafIdx"], vector["treeSize"], proof, root)
    if vector["treeSize"] <= len(LEAVES) and leaf == LEAVES[vector["leafIdx"]]:  # a proof over the reference tree:
        assert inclusion_proof(TREE, vector["leafIdx"], vector["treeSize"]) == proof  # ours is the same proof


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: v["file"])
def test_consistency_vectors(vector: dict[str, Any]) -> None:
    size1, size2 = vector["size1"], vector["size2"]
    root1, root2, proof = _b64(vector["root1"]), _b64(vector["root2"]), [_b64(p) for p in vector["proof"] or []]
    if vector["wantErr"]:
        with pytest.raises(EvidenceInvalid):
            verify_consistency(size1, size2, proof, root1, root2)
        return
    verify_consistency(size1, size2, proof, root1, root2)
    if 0 < size1 <= size2 <= len(LEAVES) and root2 == tree_root(TREE, size2):
        assert consistency_proof(TREE, size1, size2) == proof


def test_every_proof_of_random_trees_verifies_and_any_changed_byte_fails() -> None:
    """Trees up to 70 leaves (every shape of split to depth 7), grown by append and built at once alike."""
    rng = random.Random(20)
    grown = MemoryTree([])
    for size in range(1, 71):
        grown.append(leaf_hash(rng.randbytes(rng.randrange(40))))
        built = MemoryTree(grown.levels[0])
        root = tree_root(grown, size)
        assert root == tree_root(built, size)
        for index in {0, size - 1, rng.randrange(size)}:
            proof = inclusion_proof(grown, index, size)
            verify_inclusion(grown.levels[0][index], index, size, proof, root)
            if proof:
                broken = [bytearray(p) for p in proof]
                broken[rng.randrange(len(proof))][rng.randrange(32)] ^= 1 << rng.randrange(8)
                with pytest.raises(EvidenceInvalid):
                    verify_inclusion(grown.levels[0][index], index, size, [bytes(b) for b in broken], root)
        for size1 in {1, size // 2 or 1, size - 1 or 1, size}:
            proof = consistency_proof(grown, size1, size)
            verify_consistency(size1, size, proof, tree_root(grown, size1), root)
            if size1 < size:
                with pytest.raises(EvidenceInvalid, match=r"past was changed|leaves, not"):
                    verify_consistency(size1, size, proof, leaf_hash(b"rewritten"), root)


def test_proofs_are_refused_for_impossible_positions() -> None:
    with pytest.raises(EvidenceInvalid, match="below the tree size"):
        inclusion_proof(TREE, 8, 8)
    with pytest.raises(EvidenceInvalid, match="0 < size1 <= size2"):
        consistency_proof(TREE, 0, 4)
    with pytest.raises(EvidenceInvalid, match="of 32 bytes"):
        verify_inclusion(b"short", 0, 1, [], b"x" * 32)
