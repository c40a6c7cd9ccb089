"""The feed's state in Redis (ports.FeedState): tick id counters, simulation state, and the lease.

Redis is the one place overlapping feed invocations can coordinate: INCRBY hands out tick ids
atomically across processes, and a ``SET NX PX`` lease lets one invocation drive the market at a time
(two would emit two diverging random walks). Keys and TTLs come from :mod:`.redis_keys`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final

import redis

from deltastream.adapters import redis_keys

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_S: Final = 2.0  # a Lambda should fail fast and retry, not hang to its timeout
HEALTH_CHECK_INTERVAL_S: Final = 30  # PING a pooled connection idle this long (frozen Lambda envs)

# Check-and-act in one step: between a GET and a PEXPIRE/DEL the lease may expire and be taken by
# another invocation, which would then be extended or released by someone who no longer owns it.
_RENEW_IF_OWNER: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE_IF_OWNER: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def redis_client(url: str) -> redis.Redis:
    """A client for ``url`` (``redis://`` or ``rediss://`` for ElastiCache in-transit encryption).

    Bytes in, bytes out (``decode_responses=False``): values are JSON, which :func:`json.loads` reads
    from bytes directly, and binary values stay possible. Build one per process (module scope in a
    handler): it holds a connection pool that warm invocations reuse.
    """
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        client_name="deltastream",
    )


def _milliseconds(ttl_s: float) -> int:
    if not ttl_s > 0:
        raise ValueError(f"a lease TTL must be > 0 seconds, got {ttl_s!r}")
    return max(1, round(ttl_s * 1000))


class RedisFeedState:
    """ports.FeedState on Redis, plus the feed lease."""

    def __init__(self, client: redis.Redis, *, state_ttl_s: int = redis_keys.FEED_STATE_TTL_S) -> None:
        self._redis = client
        self._state_ttl_s = state_ttl_s
        self._renew = client.register_script(_RENEW_IF_OWNER)
        self._release = client.register_script(_RELEASE_IF_OWNER)

    def next_tick_ids(self, product: str, count: int) -> range:
        """Reserve ``count`` consecutive tick ids (the first ever is 1) with one atomic INCRBY."""
        if count < 0:
            raise ValueError(f"count must be ≥ 0, got {count}")
        if count == 0:
            return range(0)
        last = int(self._redis.incrby(redis_keys.feed_tick_id(product), count))
        return range(last - count + 1, last + 1)

    def load(self, product: str) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or it is unreadable: the feed starts afresh
        rather than failing every invocation on one bad value)."""
        raw = self._redis.get(redis_keys.feed_state(product))
        if raw is None:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            logger.warning("unreadable feed state for %s; starting afresh", product)
            return None
        if not isinstance(state, dict):
            logger.warning("feed state for %s is not a JSON object; starting afresh", product)
            return None
        return state

    def save(self, product: str, state: Mapping[str, Any]) -> None:
        data = json.dumps(state, separators=(",", ":"), allow_nan=False)
        self._redis.set(redis_keys.feed_state(product), data, ex=self._state_ttl_s)

    def acquire_lease(self, owner: str, ttl_s: float) -> bool:
        """Take the feed lease for ``ttl_s`` seconds if nobody holds it; True when ``owner`` got it."""
        return bool(self._redis.set(redis_keys.FEED_LEASE, owner, nx=True, px=_milliseconds(ttl_s)))

    def renew_lease(self, owner: str, ttl_s: float) -> bool:
        """Extend the lease to ``ttl_s`` seconds from now, only if ``owner`` still holds it."""
        return bool(self._renew(keys=[redis_keys.FEED_LEASE], args=[owner, _milliseconds(ttl_s)]))

    def release_lease(self, owner: str) -> bool:
        """Give the lease up, only if ``owner`` holds it (an expired lease may belong to another)."""
        return bool(self._release(keys=[redis_keys.FEED_LEASE], args=[owner]))
