"""The shared cache: Django's Redis cache, degraded to "nothing cached" while Redis is away.

Pages must keep working when Redis stops (claims are still filed, see tests/faults): a read
that cannot reach Redis is a miss and a write is skipped, each logged. Content cached under
versioned keys (mutualaid.pagecache) stays correct through this: a missed read renders afresh.
A delete still fails loudly: a session that cannot be removed from the cache must not be
reported as logged out (mutualaid.sessions).
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusedClients(RedisCacheClient):
    """Django builds a redis.Redis client for every operation, which costs more than the
    round trip with redis-py 8; a client (thread-safe, over its connection pool) is kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients

    def _degraded(self, fallback, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except UNREACHABLE as exc:
            logger.warning("Cache unreachable, continuing without it: %s", exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._degraded(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._degraded({}, super().get_many, keys, version)

    def add(self, *args, **kwargs):
        return self._degraded(False, super().add, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._degraded(None, super().set, *args, **kwargs)

    def has_key(self, key, version=None):
        return self._degraded(False, super().has_key, key, version)

    def set_many(self, *args, **kwargs):
        return self._degraded(list(args[0]) if args else [], super().set_many, *args, **kwargs)
