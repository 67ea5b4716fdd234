#!/usr/bin/env python3
"""Check a mutualaid charge proof against a batch's published root and total. Standard library only.

Usage: python verify_charge.py proof.json ROOT_HEX TOTAL_CENTS

ROOT_HEX and TOTAL_CENTS are the root and the total published on the batch's report page.
proof.json is what GET /api/v1/batches/{id}/proof/ returns (or one item of its "proofs"):
{"batch_id": 7, "membership_id": 42, "amount_cents": 123, "salt": "<hex>", "leaf": "<hex>",
 "path": [{"hash": "<hex>", "sum": 4567, "side": "left" | "right"}, ...]}

Tree rules (a summed Merkle tree, a proof of liabilities):
  leaf = (SHA-256 of "batch_id|membership_id|amount_cents|salt", amount_cents)
  node = (SHA-256 of "left_hash|left_sum|right_hash|right_sum", left_sum + right_sum)
with hashes written as lowercase hex; an unpaired last node is promoted unchanged (so it adds
no step to a path). The root's sum is the batch's total: your charge is counted in it, and no
sum on the path is negative (a negative one could hide part of the total).
Exit status: 0 valid, 1 not valid (the message says why), 2 unreadable input.
"""

import hashlib
import json
import re
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def leaf_of(proof):
    text = f"{proof['batch_id']}|{proof['membership_id']}|{proof['amount_cents']}|{proof['salt']}"
    return hashlib.sha256(text.encode()).hexdigest(), proof["amount_cents"]


def node_of(left, right):
    (left_hash, left_sum), (right_hash, right_sum) = left, right
    text = f"{left_hash}|{left_sum}|{right_hash}|{right_sum}"
    return hashlib.sha256(text.encode()).hexdigest(), left_sum + right_sum


def is_cents(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check(proof, root_hex, total_cents):
    """Return (valid, reason)."""
    for key in ("batch_id", "membership_id", "amount_cents"):
        if not is_cents(proof[key]):
            return False, f"{key} must be a non-negative whole number, not {proof[key]!r}"
    if not HEX64.match(str(proof["salt"])):
        return False, "the salt must be 64 lowercase hex digits"
    current = leaf_of(proof)
    if "leaf" in proof and proof["leaf"] != current[0]:
        return False, (
            "the leaf does not match the charge's data (batch, membership, amount or salt "
            f"changed): computed {current[0]}, proof says {proof['leaf']}"
        )
    for step, sibling in enumerate(proof["path"], start=1):
        if not HEX64.match(str(sibling["hash"])) or sibling["side"] not in ("left", "right"):
            return False, f"step {step} of the path is malformed"
        if not is_cents(sibling["sum"]):
            return False, (
                f"step {step} of the path has the sum {sibling['sum']!r}: every sum must be a "
                "non-negative whole number of cents"
            )
        other = (sibling["hash"], sibling["sum"])
        current = node_of(other, current) if sibling["side"] == "left" else node_of(current, other)
    root_hash, root_sum = current
    if root_hash != root_hex.lower():
        return False, (
            f"the path leads to root {root_hash}, not to the published root {root_hex.lower()}"
            " (the charge, or a sibling's hash or sum in the path, differs from what was"
            " published)"
        )
    if root_sum != total_cents:
        return False, (
            f"the path sums to {root_sum} cents, not to the published total {total_cents}"
        )
    return True, "valid: this charge is included in the published batch and counted in its total"


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            data = json.load(handle)
        proofs = data["proofs"] if "proofs" in data else [data]
        root = argv[2]
        total = int(argv[3])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read the proof: {exc}", file=sys.stderr)
        return 2
    all_valid = bool(proofs)
    for proof in proofs:
        try:
            valid, reason = check(proof, root, total)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            valid, reason = False, f"the proof is malformed: {exc}"
        label = f"membership {proof.get('membership_id')}, {proof.get('amount_cents')} cents"
        print(f"{label}: {reason}")
        all_valid &= valid
    if not proofs:
        print("the file holds no proof")
    return 0 if all_valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
