"""Evidence-log hook. Uses claims.evidence_log.append once that module exists (merge of the
claims branch); until then this is a no-op."""

import importlib


def record(kind, payload):
    try:
        log = importlib.import_module("claims.evidence_log")
    except ImportError:
        return None
    if hasattr(log, "append"):
        return log.append(kind, payload)
    return None
