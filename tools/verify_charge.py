#!/usr/bin/env python3
"""Check a mutualaid charge proof against a published Merkle root. Standard library only.

Usage: python verify_charge.py proof.json ROOT_HEX

proof.json is what GET /api/v1/batches/{id}/proof/ returns (or one item of its "proofs"):
{"batch_id": 7, "membership_id": 42, "amount_cents": 123, "leaf": "<hex>",
 "path": [{"hash": "<hex>", "side": "left" | "right"}, ...]}

Tree rules: leaf = SHA-256("batch_id|membership_id|amount_cents"), node = SHA-256(left || right)
over raw digests, an unpaired last node is promoted unchanged (so it adds no step to a path).
Exit status: 0 valid, 1 not valid (the message says why), 2 unreadable input.
"""

import hashlib
import json
import sys


def leaf_hash(batch_id, membership_id, amount_cents):
    return hashlib.sha256(f"{batch_id}|{membership_id}|{amount_cents}".encode()).digest()


def check(proof, root_hex):
    """Return (valid, reason)."""
    leaf = leaf_hash(proof["batch_id"], proof["membership_id"], proof["amount_cents"])
    if "leaf" in proof and proof["leaf"] != leaf.hex():
        return False, (
            "the leaf does not match the charge's data (batch, membership or amount changed): "
            f"computed {leaf.hex()}, proof says {proof['leaf']}"
        )
    digest = leaf
    for step, sibling in enumerate(proof["path"], start=1):
        other = bytes.fromhex(sibling["hash"])
        if len(other) != 32 or sibling["side"] not in ("left", "right"):
            return False, f"step {step} of the path is malformed"
        pair = other + digest if sibling["side"] == "left" else digest + other
        digest = hashlib.sha256(pair).digest()
    if digest.hex() != root_hex.lower():
        return False, (
            f"the path leads to root {digest.hex()}, not to the published root {root_hex.lower()}"
            " (the charge or a sibling in the path differs from what was published)"
        )
    return True, "valid: this charge is included in the published batch"


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            data = json.load(handle)
        proofs = data["proofs"] if "proofs" in data else [data]
        root = argv[2] if argv[2] else data.get("merkle_root", "")
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot read the proof: {exc}", file=sys.stderr)
        return 2
    all_valid = True
    for proof in proofs:
        try:
            valid, reason = check(proof, root)
        except (KeyError, ValueError, TypeError) as exc:
            valid, reason = False, f"the proof is malformed: {exc}"
        label = f"membership {proof.get('membership_id')}, {proof.get('amount_cents')} cents"
        print(f"{label}: {reason}")
        all_valid &= valid
    return 0 if all_valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
