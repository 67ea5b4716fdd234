"""Rendered page content kept in the shared cache (Redis), keyed by versions that writes bump.

A cached page part is stored under its name, the language and an optional extra part (e.g. the
member), with the versions it was rendered under of the *scopes* it depends on ("member:42" for
what one member sees, "members" for every dashboard, "pools", "notice", "reports"). A write bumps
the scopes it touches when its transaction commits (mutualaid.invalidation and the set-based
services call `bump`), so the next request reads new versions and renders afresh: nobody, and
in particular not the member who made the change, is served content older than a commit that
bumped its scope. An entry whose versions are no longer current is rendered again, from the
primary while the change may not have reached a read replica yet (mutualaid.db_router).

Only content without per-request parts may be cached: the page around it (navigation, CSRF
tokens, messages) is put together for every request (mutualaid.layout). With no shared cache
configured (the "shared" alias is a dummy cache) the content is rendered for every request.
"""

import time

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils.translation import get_language

from mutualaid import db_router

SHARED = "shared"
MEMBERS = "members"
POOLS = "pools"
NOTICE = "notice"
REPORTS = "reports"
# Public pages are also time-dependent (a notice's days left, this year's figures): kept short.
PUBLIC_SECONDS = 30


# Read-ahead (mutualaid.sessions): the keys a page read for a session last time, per process, so
# that the next request for that page reads them in the session's own round trip.
_read_ahead: dict = {}
MAX_READ_AHEAD = 10_000
_bumps = [0]  # versions this process set: a read-ahead older than one of them is not used


def member(user_id) -> str:
    return f"member:{user_id}"


def _cache():
    return caches[SHARED]


def _version_key(scope: str) -> str:
    return f"pagecache:v:{scope}"


def bump(*scopes: str):
    """Give each scope a new version now and again once the current transaction commits:
    content rendered before the change is no longer read. The second bump is the one that
    counts for other processes (what they render before the commit still shows the old rows);
    the first lets this transaction read its own writes (and a test inside one)."""
    scopes = tuple(dict.fromkeys(scopes))
    if scopes:
        _set_new_versions(scopes)
        if connection.in_atomic_block:
            transaction.on_commit(lambda: _set_new_versions(scopes))


def _set_new_versions(scopes):
    _bumps[0] += 1
    version = time.time_ns()
    _cache().set_many({_version_key(scope): version for scope in scopes}, timeout=None)


def render_cached(request, template, build_context, *, name, scopes, timeout, extra="") -> bytes:
    """The rendered `template` (its context from `build_context()`) as UTF-8 HTML, from the
    cache when none of its scopes was bumped since it was rendered; at most `timeout` seconds
    old. Bytes, the form a response sends, so a cached page is never decoded and encoded again
    (mutualaid.layout.render_page puts it in its layout).

    One round trip reads the scopes' versions and the entry (stored with the versions it was
    rendered under), or none when they were read with the session (read-ahead, see
    mutualaid.sessions); a scope never bumped, or evicted, gets a new version, so nothing older
    is read."""
    cache = _cache()
    key = f"pagecache:html:{name}:{get_language()}:{extra}"  # entries hold UTF-8 bytes
    version_keys = [_version_key(scope) for scope in scopes]
    keys = [*version_keys, key]
    found = _read_with_session(request, keys)
    if found is None:
        found = cache.get_many(keys)
    for version_key in version_keys:
        if version_key not in found:
            cache.add(version_key, time.time_ns(), timeout=None)
            found[version_key] = cache.get(version_key)
    current = [found[version_key] for version_key in version_keys]
    if None in current:  # no shared cache (dummy), or it is unreachable: render every time
        return render_to_string(template, build_context(), request).encode()
    entry = found.get(key)
    if entry is not None and entry[0] == current:
        return entry[1]
    # Just invalidated: a replica may not have the change yet, and this render is kept.
    with db_router.primary_reads(when=db_router.changed_recently(max(current))):
        html = render_to_string(template, build_context(), request)
    if "csrfmiddlewaretoken" in html:
        raise ImproperlyConfigured(f"{template} has a CSRF token: it must not be cached.")
    content = html.encode()
    cache.set(key, (current, content), timeout)
    return content


def read_ahead(session_key, path) -> tuple:
    """The cache keys to read with this session's data for a GET of `path`: those the page read
    for this session last time (in this process)."""
    return _read_ahead.get((session_key, path), ())


def bumps() -> int:
    return _bumps[0]


def _read_with_session(request, keys):
    """`keys` as read with the session's data at the start of this request (mutualaid.sessions),
    or None: not read with it, or this process set new versions since. Otherwise the keys are
    remembered for the next GET of this page with this session, once the session is read first
    (as on a page for members only)."""
    session = getattr(request, "session", None)
    if session is None or not session.accessed or not session.session_key:
        return None
    read = session.read_ahead_found
    if read is not None and read[0] == bumps() and set(keys) <= set(session.read_ahead):
        return {key: read[1][key] for key in keys if key in read[1]}
    if request.method == "GET":
        if len(_read_ahead) >= MAX_READ_AHEAD:
            _read_ahead.clear()
        _read_ahead[session.session_key, request.path] = tuple(keys)
    return None
