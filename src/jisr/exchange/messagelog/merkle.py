"""RFC 9162 §2.1 Merkle trees (the RFC 6962 structure): hashes, the right edge, proofs.

Everything here works on *leaf hashes*: ``leaf_hash(d)`` is MTH({d}) = HASH(0x00 || d)
(§2.1.1); an interior node is HASH(0x01 || left || right). A tree of ``n`` leaves splits at
``k``, the largest power of two smaller than ``n``, so only the right edge is ever
incomplete. That edge is all an append-only log needs to keep in memory
(:class:`CompactTree`: one hash per set bit of the size).

Proofs are described first as *ranges* of leaves (``[lo, hi)``) whose subtree roots form
the proof (:func:`inclusion_ranges`, :func:`consistency_ranges`): the recursion of the
RFC is written once, and a caller with millions of leaves in a database can compute each
range's root by streaming instead of holding every leaf in memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactTree",
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
#: §2.1.1: MTH({}) = HASH(), the hash of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """§2.1.1: MTH({d}) = HASH(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """§2.1.1: an interior node, HASH(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """§2.1.1: ``k``, the largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactTree:
    """The right edge of an append-only tree: the roots of its perfect subtrees.

    For size ``n`` there is one hash per set bit of ``n``, largest subtree first. Appending
    merges equal-sized subtrees (one hash per trailing one bit of the old size); the root is
    the RFC's MTH, folding the subtrees from the right.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(nodes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} edge nodes")
        self._size = size
        self._nodes = list(nodes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        nodes = self._nodes
        nodes.append(leaf)
        size = self._size
        while size & 1:
            right = nodes.pop()
            nodes[-1] = node_hash(nodes[-1], right)
            size >>= 1
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        result = self._nodes[-1]
        for left in reversed(self._nodes[:-1]):
            result = node_hash(left, result)
        return result

    def copy(self) -> CompactTree:
        return CompactTree(self._size, self._nodes)

    def to_bytes(self) -> bytes:
        """The edge nodes concatenated; with the size, enough to resume the tree."""
        return b"".join(self._nodes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactTree:
        count, rest = divmod(len(data), HASH_SIZE)
        if rest:
            raise ValueError("edge nodes are not a whole number of hashes")
        return cls(size, [data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(count)])


def root_hash(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaf hashes ``leaves``."""
    tree = CompactTree()
    tree.extend(leaves)
    return tree.root()


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """§2.1.3.1 PATH(m, D[n]) as leaf ranges, in proof order (leaf level first)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()  # the sibling nearest the root comes last
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """§2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges, in proof order.

    Empty when ``first`` is 0 or equal to ``second``: nothing needs proving.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    lo, m, n, complete = 0, first, second, True
    while m != n:
        k = _split(n)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((lo + k, lo + n))
            n = k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo, m, n, complete = lo + k, m - k, n - k, False
    if not complete:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        ranges.append((lo, lo + m))
    ranges.reverse()
    return ranges


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of all ``leaves``."""
    return [root_hash(leaves[lo:hi]) for lo, hi in inclusion_ranges(index, len(leaves))]


def consistency_proof(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """The proof that the first ``first`` leaves are a prefix of the tree of ``leaves``."""
    return [root_hash(leaves[lo:hi]) for lo, hi in consistency_ranges(first, len(leaves))]


def _hashes(values: Iterable[bytes]) -> bool:
    return all(len(value) == HASH_SIZE for value in values)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """§2.1.3.2: whether ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root``."""
    if not 0 <= index < size or not _hashes([leaf, root, *proof]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: whether ``proof`` shows the tree ``first_root`` is a prefix of ``second_root``."""
    if not 0 <= first <= second or not _hashes([first_root, second_root, *proof]):
        return False
    if first == second:
        return not proof and hmac.compare_digest(first_root, second_root)
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:  # step 1
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: an exact power of two is its own subtree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # step 7
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)
