"""The auth stores on Redis: refresh tokens, revoked access tokens, failed-login counters.

Keys come from :mod:`deltastream.adapters.redis_keys` (``ds:auth:*``). Rotation and revocation run as
Lua scripts, because each is a check-then-act over several keys: two refreshes racing with one token
must not both succeed (only one :meth:`RedisRefreshStore.consume` finds it live), and a token issued
into a family while the family is being revoked must not survive it.

The revocation script builds the live-token keys from the family's members, so all ``ds:auth:*``
keys must live on one Redis node (true of a single node and of ElastiCache without cluster mode).

Imports nothing heavier than :mod:`redis_keys` (the client comes from the caller): the TOKEN
authorizer uses :class:`RedisRevocations`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from deltastream.adapters import redis_keys
from deltastream.auth.ports import Consumed, Count, Live, RefreshRecord, Reused

if TYPE_CHECKING:
    import redis

_ISSUE: Final = """
if ARGV[5] == '0' and redis.call('EXISTS', KEYS[2]) == 0 then
    return 0
end
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'family', ARGV[2], 'expires_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[6])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[4]) then
    redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return 1
"""

_CONSUME: Final = """
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then
    local ttl = redis.call('TTL', KEYS[1])
    local record = {}
    for i = 1, #fields, 2 do
        record[fields[i]] = fields[i + 1]
    end
    redis.call('DEL', KEYS[1])
    if ttl > 0 then
        redis.call('SET', KEYS[2], record['family'], 'EX', ttl)
    end
    return {'live', record['user_id'], record['family'], record['expires_at']}
end
local family = redis.call('GET', KEYS[2])
if family then
    return {'reused', family}
end
return {}
"""

_REVOKE_FAMILY: Final = """
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do
    redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[1])
return #ids
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisRefreshStore:
    """:class:`deltastream.auth.ports.RefreshStore` on Redis (see the module doc)."""

    def __init__(self, client: redis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._clock = clock
        self._issue = client.register_script(_ISSUE)
        self._consume = client.register_script(_CONSUME)
        self._revoke = client.register_script(_REVOKE_FAMILY)

    def issue(self, record: RefreshRecord, *, new_family: bool) -> bool:
        ttl_s = max(1, int(record.expires_at - self._clock()))
        issued = self._issue(
            keys=[redis_keys.refresh_token(record.token_id), redis_keys.refresh_family(record.family)],
            args=[
                record.user_id,
                record.family,
                record.expires_at,
                ttl_s,
                "1" if new_family else "0",
                record.token_id,
            ],
        )
        return bool(issued)

    def consume(self, token_id: str) -> Consumed:
        answer = self._consume(
            keys=[redis_keys.refresh_token(token_id), redis_keys.refresh_rotated(token_id)]
        )
        if not answer:
            return None
        kind = _text(answer[0])
        if kind == "reused":
            return Reused(family=_text(answer[1]))
        user_id, family, expires_at = (_text(v) for v in answer[1:4])
        return Live(RefreshRecord(token_id, user_id=user_id, family=family, expires_at=int(expires_at)))

    def family_of(self, token_id: str) -> str | None:
        family = self._redis.hget(redis_keys.refresh_token(token_id), "family")
        if family is None:
            family = self._redis.get(redis_keys.refresh_rotated(token_id))
        return None if family is None else _text(family)

    def revoke_family(self, family: str) -> None:
        self._revoke(keys=[redis_keys.refresh_family(family)], args=[redis_keys.refresh_token("")])


class RedisRevocations:
    """:class:`deltastream.auth.ports.Revocations` on Redis: one expiring key per revoked ``jti``."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def revoke(self, jti: str, ttl_s: int) -> None:
        self._redis.set(redis_keys.revoked_access(jti), b"1", ex=max(1, int(ttl_s)))

    def is_revoked(self, jti: str) -> bool:
        return bool(self._redis.exists(redis_keys.revoked_access(jti)))


class RedisFailureCounters:
    """:class:`deltastream.auth.ports.FailureCounters` on Redis: ``SET NX EX`` opens the window (so
    later failures do not extend it), ``INCR`` counts, in one transaction."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def increment(self, key: str, window_s: int) -> Count:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(key, 0, ex=window_s, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, value, ttl = pipe.execute()
        if ttl < 0:  # no expiry (written by something else): never let a counter live forever
            self._redis.expire(key, window_s)
            ttl = window_s
        return Count(value=int(value), resets_in_s=int(ttl))

    def peek(self, key: str) -> Count:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = pipe.execute()
        if value is None:
            return Count(value=0, resets_in_s=0)
        return Count(value=int(value), resets_in_s=max(0, int(ttl)))

    def clear(self, key: str) -> None:
        self._redis.delete(key)
