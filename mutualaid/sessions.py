"""Sessions: Django's cached_db (the database stays the record, reads come from the shared
cache), safe when the cache is unreachable.

A logout must remove the session from the cache first: Django deletes the row and then the
cache entry, so a cache that was unreachable at that moment and came back with its data would
keep serving a logged-out session. Here a logout that cannot reach the cache fails as a whole
and the session stays what it was everywhere. A key change (at login) may leave the old key's
entry behind: it holds no sign-in (or, after a password change, a stale one Django refuses).

Read-ahead: a GET of a page whose cached content this session read last time (a member's
dashboard) reads that content's keys in the session's own round trip (SessionMiddleware, and
mutualaid.pagecache, which uses them only for this request and only if this process set no new
version since): one round trip to the cache instead of two, the same values.
"""

import logging

from django.conf import settings
from django.contrib.sessions import middleware
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

from mutualaid import pagecache
from mutualaid.cache import UNREACHABLE

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    read_ahead = ()  # more keys of the session's cache to read in the same round trip
    read_ahead_found = None  # (pagecache.bumps() then, {key: value found})

    def load(self):
        """The session's data; with the read-ahead keys (mutualaid.pagecache) in one round trip
        when there are some, found values kept for the page."""
        if self.read_ahead:
            bumps = pagecache.bumps()
            try:
                found = self._cache.get_many([self.cache_key, *self.read_ahead])
            except Exception:  # as Django's load: an unusable cache is a miss
                found = {}
            self.read_ahead_found = (bumps, found)
            if self.cache_key in found:
                return found[self.cache_key]
        return super().load()

    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except UNREACHABLE as exc:
            logger.warning("Session cache unreachable; an old session key stays cached: %s", exc)

    def flush(self):
        if self.session_key is not None:
            self._cache.delete(self.cache_key)  # raises while the cache is unreachable
        super().flush()


class SessionMiddleware(middleware.SessionMiddleware):
    """Django's, reading ahead: a GET of a page that read cached content for this session last
    time reads that content's keys with the session's data, one round trip for both."""

    def process_request(self, request):
        super().process_request(request)
        key = request.session.session_key
        if key and request.method == "GET" and settings.SESSION_CACHE_ALIAS == pagecache.SHARED:
            request.session.read_ahead = pagecache.read_ahead(key, request.path)
