"""RFC 9162 §2.1 Merkle trees: published vectors, and every proof against a naive tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jisr.exchange.messagelog.merkle import (
    EMPTY_ROOT,
    CompactTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 test vectors as published by transparency-dev/merkle (testonly/constants.go,
# proof/verify_test.go): leaf inputs, root per tree size 0..8, and some proofs.
INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first size, second size, proof)
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
LEAVES = [leaf_hash(data) for data in INPUTS]
MAX_LEAVES = 70


# --- the RFC's definitions, written as literally as possible -------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(entries: list[bytes]) -> bytes:
    """§2.1.1 MTH over the *entries* (not yet hashed)."""
    n = len(entries)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + entries[0])
    k = _k(n)
    return _h(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:]))


def naive_path(m: int, entries: list[bytes]) -> list[bytes]:
    """§2.1.3.1 PATH(m, D[n])."""
    n = len(entries)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, entries[:k]), naive_mth(entries[k:])]
    return [*naive_path(m - k, entries[k:]), naive_mth(entries[:k])]


def naive_subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    """§2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(entries)
    if m == n:
        return [] if complete else [naive_mth(entries)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, entries[:k], complete), naive_mth(entries[k:])]
    return [*naive_subproof(m - k, entries[k:], False), naive_mth(entries[:k])]


def entries_of(size: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(2, "big") for i in range(size)]


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


class TestKnownVectors:
    def test_empty_tree_is_the_hash_of_nothing(self) -> None:
        """MTH({}) is SHA-256 of the empty string, e3b0c442…"""
        assert EMPTY_ROOT.hex() == ROOTS[0]
        assert root_hash([]) == EMPTY_ROOT

    @pytest.mark.parametrize("size", range(9))
    def test_roots_match_rfc6962_vectors(self, size: int) -> None:
        """Roots of the reference leaves agree with the published RFC 6962 values."""
        assert root_hash(LEAVES[:size]).hex() == ROOTS[size]

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
    def test_inclusion_vectors(self, index: int, size: int, proof: list[str]) -> None:
        """Published audit paths are produced and verified."""
        assert [p.hex() for p in inclusion_proof(LEAVES[:size], index)] == proof
        nodes = [bytes.fromhex(p) for p in proof]
        assert verify_inclusion(LEAVES[index], index, size, nodes, bytes.fromhex(ROOTS[size]))

    @pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
    def test_consistency_vectors(self, first: int, second: int, proof: list[str]) -> None:
        """Published consistency proofs are produced and verified."""
        assert [p.hex() for p in consistency_proof(LEAVES[:second], first)] == proof
        nodes = [bytes.fromhex(p) for p in proof]
        roots = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
        assert verify_consistency(first, second, *roots, nodes)


class TestAgainstNaiveTree:
    def test_every_size_every_index_up_to_70(self) -> None:
        """For every tree up to 70 leaves: the root, every audit path and every
        consistency proof equal the RFC's recursive definitions, and all verify."""
        entries = entries_of(MAX_LEAVES)
        hashes = [leaf_hash(e) for e in entries]
        roots = [naive_mth(entries[:n]) for n in range(MAX_LEAVES + 1)]
        tree = CompactTree()
        for n in range(1, MAX_LEAVES + 1):
            tree.append(hashes[n - 1])
            assert tree.root() == root_hash(hashes[:n]) == roots[n]
            for m in range(n):
                path = inclusion_proof(hashes[:n], m)
                assert path == naive_path(m, entries[:n])
                assert verify_inclusion(hashes[m], m, n, path, roots[n])
            for m in range(1, n + 1):
                proof = consistency_proof(hashes[:n], m)
                assert proof == naive_subproof(m, entries[:n], True)
                assert verify_consistency(m, n, roots[m], roots[n], proof)

    @settings(max_examples=300, deadline=None)
    @given(
        data=st.data(),
        size=st.integers(min_value=1, max_value=MAX_LEAVES),
        salt=st.binary(max_size=8),
    )
    def test_inclusion_fails_for_wrong_leaf_index_or_root(
        self, data: st.DataObject, size: int, salt: bytes
    ) -> None:
        """An audit path proves one leaf at one index under one root, nothing else."""
        hashes = [leaf_hash(e) for e in entries_of(size, salt)]
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        root = root_hash(hashes)
        path = inclusion_proof(hashes, index)
        assert verify_inclusion(hashes[index], index, size, path, root)
        assert not verify_inclusion(flip(hashes[index]), index, size, path, root)
        assert not verify_inclusion(hashes[index], index, size, path, flip(root))
        other = data.draw(st.integers(min_value=0, max_value=size))
        if other != index and hashes[index] not in (hashes[other : other + 1]):
            assert not verify_inclusion(hashes[index], other, size, path, root)
        if path:
            position = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
            broken = [*path[:position], flip(path[position]), *path[position + 1 :]]
            assert not verify_inclusion(hashes[index], index, size, broken, root)
            assert not verify_inclusion(hashes[index], index, size, path[:-1], root)
        assert not verify_inclusion(hashes[index], index, size, [*path, root], root)

    @settings(max_examples=300, deadline=None)
    @given(
        data=st.data(),
        second=st.integers(min_value=2, max_value=MAX_LEAVES),
        salt=st.binary(max_size=8),
    )
    def test_consistency_fails_for_wrong_roots_or_proof(
        self, data: st.DataObject, second: int, salt: bytes
    ) -> None:
        """A consistency proof ties exactly these two roots at these two sizes."""
        first = data.draw(st.integers(min_value=1, max_value=second - 1))
        hashes = [leaf_hash(e) for e in entries_of(second, salt)]
        old, new = root_hash(hashes[:first]), root_hash(hashes)
        proof = consistency_proof(hashes, first)
        assert verify_consistency(first, second, old, new, proof)
        assert not verify_consistency(first, second, flip(old), new, proof)
        assert not verify_consistency(first, second, old, flip(new), proof)
        assert not verify_consistency(first, second, new, old, proof)
        assert not verify_consistency(first, second, old, new, [])
        assert not verify_consistency(first, second, old, new, proof[:-1])
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        broken = [*proof[:position], flip(proof[position]), *proof[position + 1 :]]
        assert not verify_consistency(first, second, old, new, broken)
        # A different history of the same length is not consistent with this one.
        forked = [*hashes[: first - 1], flip(hashes[first - 1])]
        assert not verify_consistency(first, second, root_hash(forked), new, proof)


class TestEdges:
    def test_trivial_consistency(self) -> None:
        """Size 0 is a prefix of everything; equal sizes need equal roots and no proof."""
        a, b = leaf_hash(b"a"), leaf_hash(b"b")
        assert verify_consistency(0, 5, EMPTY_ROOT, a, [])
        assert verify_consistency(3, 3, a, a, [])
        assert not verify_consistency(3, 3, a, b, [])
        assert not verify_consistency(3, 3, a, a, [a])
        assert not verify_consistency(4, 3, a, b, [a])

    def test_inclusion_out_of_range_fails(self) -> None:
        """No leaf is at index n of a tree of n, nor in the empty tree."""
        a = leaf_hash(b"a")
        assert not verify_inclusion(a, 1, 1, [], a)
        assert not verify_inclusion(a, 0, 0, [], EMPTY_ROOT)
        with pytest.raises(ValueError, match="not in a tree"):
            inclusion_proof([a], 1)

    def test_compact_tree_round_trips(self) -> None:
        """The stored right edge resumes the tree exactly."""
        tree = CompactTree()
        tree.extend(leaf_hash(e) for e in entries_of(45))
        resumed = CompactTree.from_bytes(45, tree.to_bytes())
        assert resumed.root() == tree.root()
        resumed.append(leaf_hash(b"next"))
        tree.append(leaf_hash(b"next"))
        assert resumed.root() == tree.root()
        with pytest.raises(ValueError, match="edge nodes"):
            CompactTree.from_bytes(47, tree.to_bytes())
