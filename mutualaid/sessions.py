"""Sessions: Django's cached_db (the database stays the record, reads come from the shared
cache), safe when the cache is unreachable.

A logout must remove the session from the cache first: Django deletes the row and then the
cache entry, so a cache that was unreachable at that moment and came back with its data would
keep serving a logged-out session. Here a logout that cannot reach the cache fails as a whole
and the session stays what it was everywhere. A key change (at login) may leave the old key's
entry behind: it holds no sign-in (or, after a password change, a stale one Django refuses).
"""

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

from mutualaid.cache import UNREACHABLE

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except UNREACHABLE as exc:
            logger.warning("Session cache unreachable; an old session key stays cached: %s", exc)

    def flush(self):
        if self.session_key is not None:
            self._cache.delete(self.cache_key)  # raises while the cache is unreachable
        super().flush()
