"""Merkle tree over a batch's charges (SPEC 7), so each member can check their own charge.

leaf  = SHA-256 of the UTF-8 text "batch_id|membership_id|amount_cents", leaves in membership-id
        order; node = SHA-256(left || right) over the raw 32-byte digests.
Odd levels: the last, unpaired node is promoted to the next level unchanged (never duplicated,
which would let two different leaf lists share a root).

The root is computed streaming, keeping one pending node per height (O(log n) memory); proofs
keep each level as one packed bytearray (32 bytes a node: about 64 MB for a million charges).
"""

import hashlib
from collections.abc import Iterable

DIGEST = 32


def leaf_hash(batch_id: int, membership_id: int, amount_cents: int) -> bytes:
    return hashlib.sha256(f"{batch_id}|{membership_id}|{amount_cents}".encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def streaming_root(leaves: Iterable[bytes]) -> bytes | None:
    """The root without holding the leaves: a binary counter of pending subtrees.

    Folding what is left from right to left at the end gives the same root as building level
    by level with promotion of the lone last node.
    """
    stack: list[tuple[int, bytes]] = []  # (height, digest), heights strictly decreasing
    for leaf in leaves:
        height, digest = 0, leaf
        while stack and stack[-1][0] == height:
            _, left = stack.pop()
            digest = node_hash(left, digest)
            height += 1
        stack.append((height, digest))
    if not stack:
        return None
    _, digest = stack.pop()
    while stack:
        _, left = stack.pop()
        digest = node_hash(left, digest)
    return digest


def build_levels(leaves: Iterable[bytes]) -> list[bytearray]:
    """Every level of the tree, each a packed bytearray; the last level is the root."""
    level = bytearray()
    for leaf in leaves:
        level += leaf
    if not level:
        return []
    levels = [level]
    while len(level) > DIGEST:
        count = len(level) // DIGEST
        upper = bytearray()
        view = memoryview(level)
        sha256 = hashlib.sha256
        for offset in range(0, (count - 1) * DIGEST, 2 * DIGEST):
            # left || right lie side by side in the packed level: hash the 64 bytes at once
            upper += sha256(view[offset : offset + 2 * DIGEST]).digest()
        if count % 2:
            upper += level[(count - 1) * DIGEST :]
        levels.append(upper)
        level = upper
    return levels


def audit_path(levels: list[bytearray], index: int) -> list[dict]:
    """Siblings from the leaf up: [{"hash": hex, "side": "left"|"right"}]; promoted levels
    contribute no step."""
    path = []
    for level in levels[:-1]:
        count = len(level) // DIGEST
        sibling = index ^ 1
        if sibling < count:
            digest = bytes(level[sibling * DIGEST : (sibling + 1) * DIGEST])
            path.append({"hash": digest.hex(), "side": "left" if sibling < index else "right"})
        index //= 2
    return path
