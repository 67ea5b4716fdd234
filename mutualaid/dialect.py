"""The few places where PostgreSQL and the embedded SQLite default differ.

One portable statement is the rule; a PostgreSQL-only path is kept only where it was measured to
be clearly faster (docs/benchmarks.md), and its reason is written beside it.
"""

import hashlib

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def sha256_sql(text_sql: str) -> str:
    """SQL for the SHA-256 (bytes) of a text expression's UTF-8 encoding."""
    if is_postgres():
        return f"sha256(convert_to({text_sql}, 'UTF8'))"
    return f"sha256({text_sql})"  # registered on SQLite connections below


def computed_once() -> str:
    """Ends a subquery whose columns are mentioned more than once above it: PostgreSQL would
    otherwise inline it and compute each mention (a SHA-256 each) again."""
    return "OFFSET 0" if is_postgres() else ""


def set_based(cursor, work_mem: str = "64MB"):
    """Settings for this transaction's set-based statements over tens of thousands of rows:
    sorts and hashes stay in memory (PostgreSQL's default is 4 MB), and no JIT. PostgreSQL
    compiles every statement its planner costs above `jit_above_cost`; a chunk's statements
    qualify, run for a few hundred milliseconds, and never earned back the ~30 ms compile
    (a tenth of a publish chunk; docs/benchmarks.md, 2026-12-07, second session)."""
    if is_postgres():
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
        cursor.execute("SET LOCAL jit = off")


def advisory_xact_lock(*keys: int, wait: bool = True) -> bool:
    """Take a transaction-level advisory lock on PostgreSQL (False if `wait` is off and it is
    held). SQLite has one writer at a time, so there the lock is always had."""
    if not is_postgres():
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({', '.join(['%s'] * len(keys))})", list(keys))
        got = cursor.fetchone()[0]
    return wait or bool(got)


def _sqlite_sha256(value):
    if value is None:
        return None
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).digest()


def register_sqlite_functions(sender, connection, **kwargs):
    """The embedded SQLite default lacks sha256(); the odd-cent rule needs it."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sha256", 1, _sqlite_sha256, deterministic=True)
