"""The append-only, hash-chained evidence log (SPEC 5).

Placeholder until the evidence log lands: the contract other apps rely on is `head_hash()`.
"""

GENESIS = "0" * 64


def head_hash() -> str:
    """The hash of the newest record of the chain (GENESIS when it is empty)."""
    return GENESIS
