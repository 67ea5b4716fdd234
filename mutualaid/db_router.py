"""Public reads on a streaming replica, everything else on the primary.

With DATABASE_REPLICA_URL set there is a "replica" alias (settings). One place chooses the
database of a request: ReplicaMiddleware sends the reads of a GET of a public view (the open
books: reports, the notice board, batches and a member's proofs; settings.REPLICA_READ_VIEWS) to
the replica, and ReplicaRouter carries that choice to every query. Everything else reads the
primary, and every write goes to the primary (migrations run only there).

Read-your-writes: a request that wrote (any POST/PUT/PATCH/DELETE, or a write through the ORM on
a GET) sets a signed cookie; for REPLICA_READ_YOUR_WRITES_SECONDS after it (a few seconds more
than the replication lag measured here) that browser reads the primary even on public pages.
Some things always read the primary: sessions and sign-ins (a logout must count at once, not
after the replica catches up), reads inside a transaction on the primary, and a page whose cached
content was just invalidated (mutualaid.pagecache renders it from the primary for the same
window, so no stale page is cached under a new version). Without a replica every read is on the
primary and nothing here does anything.
"""

import contextlib
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
COOKIE = "wrote"
COOKIE_SALT = "mutualaid.db_router"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Read on the primary whatever the request: who is signed in, their session, their log-in budget.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "authtoken", "axes", "contenttypes"})


@dataclass
class _Request:
    reads: str = DEFAULT_DB_ALIAS  # where this request's reads go
    wrote: bool = False  # whether it wrote through the ORM


_request: ContextVar[_Request | None] = ContextVar("mutualaid_db_request", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES and settings.REPLICA_READS


def window_seconds() -> int:
    return settings.REPLICA_READ_YOUR_WRITES_SECONDS


def changed_recently(stamp_ns: int) -> bool:
    """Whether something stamped with time.time_ns() may not have reached the replica yet."""
    return time.time_ns() - stamp_ns < window_seconds() * 1_000_000_000


@contextlib.contextmanager
def primary_reads(when: bool = True):
    """Reads in this block go to the primary (when `when`), whatever the request chose."""
    state = _request.get()
    if not when or state is None or state.reads == DEFAULT_DB_ALIAS:
        yield
        return
    state.reads = DEFAULT_DB_ALIAS
    try:
        yield
    finally:
        state.reads = REPLICA


class ReplicaRouter:
    """Reads where the request chose (the primary outside requests), writes to the primary."""

    def db_for_read(self, model, **hints):
        state = _request.get()
        if (
            state is None
            or state.reads == DEFAULT_DB_ALIAS
            or model._meta.app_label in PRIMARY_ONLY_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return state.reads

    def db_for_write(self, model, **hints):
        state = _request.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """Chooses where a request reads (process_view, once its view is known) and remembers a
    browser's writes for the read-your-writes window (a signed, timestamped cookie)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = _Request()
        token = _request.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if replica_configured() and (state.wrote or request.method not in SAFE_METHODS):
            response.set_signed_cookie(
                COOKIE,
                "1",
                salt=COOKIE_SALT,
                max_age=window_seconds(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method in SAFE_METHODS
            and replica_configured()
            and request.resolver_match.url_name in settings.REPLICA_READ_VIEWS
            and not wrote_recently(request)
            and replica_answers()
        ):
            _request.get().reads = REPLICA


def wrote_recently(request) -> bool:
    """Whether this browser wrote within the window (its cookie, checked for age by Django)."""
    value = request.get_signed_cookie(
        COOKIE, default=None, salt=COOKIE_SALT, max_age=window_seconds()
    )
    return value is not None


def replica_answers() -> bool:
    """A replica that cannot be connected to costs its reads, not the page: they go to the
    primary. (One that fails during a request fails that request; Django then drops the
    connection, and the next request finds it unreachable here.)"""
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as exc:
        logger.warning("Replica unreachable, reading the primary: %s", exc)
        return False
    return True
