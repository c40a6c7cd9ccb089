"""In-memory counterparts of :mod:`.redis_store` (STYLE rule 3), for unit tests and scripts.

Same semantics, plain dicts, an injectable clock (so tests move time instead of sleeping). A contract
test (``tests/functional/auth/test_stores_contract.py``) runs the same expectations against these and
against Redis, so the two cannot drift. Not thread-safe: one test, one store.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from deltastream.auth.ports import Consumed, Count, Live, RefreshRecord, Reused


class _Expiring:
    """Values that vanish at an absolute time on ``clock``, as Redis keys with a TTL do."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._values: dict[str, tuple[object, float]] = {}

    def get(self, key: str) -> object | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[1] <= self.clock():
            del self._values[key]
            return None
        return found[0]

    def ttl(self, key: str) -> int:
        found = self._values.get(key)
        return 0 if found is None else max(0, int(found[1] - self.clock()))

    def set(self, key: str, value: object, ttl_s: float) -> None:
        self._values[key] = (value, self.clock() + ttl_s)

    def replace(self, key: str, value: object) -> None:
        """Change the value of a live key, keeping its expiry (as INCR does)."""
        self._values[key] = (value, self._values[key][1])

    def delete(self, key: str) -> None:
        self._values.pop(key, None)


class MemoryRefreshStore:
    """:class:`deltastream.auth.ports.RefreshStore` in memory."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._live = _Expiring(clock)  # token id → RefreshRecord
        self._rotated = _Expiring(clock)  # token id → family
        self._families = _Expiring(clock)  # family → set of token ids

    def issue(self, record: RefreshRecord, *, new_family: bool) -> bool:
        members = self._families.get(record.family)
        if not new_family and members is None:
            return False
        ttl_s = max(1, int(record.expires_at - self._clock()))
        self._live.set(record.token_id, record, ttl_s)
        ids = set(members) if isinstance(members, set) else set()
        self._families.set(
            record.family, ids | {record.token_id}, max(ttl_s, self._families.ttl(record.family))
        )
        return True

    def consume(self, token_id: str) -> Consumed:
        record = self._live.get(token_id)
        if isinstance(record, RefreshRecord):
            ttl_s = self._live.ttl(token_id)
            self._live.delete(token_id)
            if ttl_s > 0:
                self._rotated.set(token_id, record.family, ttl_s)
            return Live(record)
        family = self._rotated.get(token_id)
        return Reused(family) if isinstance(family, str) else None

    def family_of(self, token_id: str) -> str | None:
        record = self._live.get(token_id)
        if isinstance(record, RefreshRecord):
            return record.family
        family = self._rotated.get(token_id)
        return family if isinstance(family, str) else None

    def revoke_family(self, family: str) -> None:
        members = self._families.get(family)
        for token_id in members if isinstance(members, set) else ():
            self._live.delete(token_id)
        self._families.delete(family)


class MemoryRevocations:
    """:class:`deltastream.auth.ports.Revocations` in memory."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._revoked = _Expiring(clock)

    def revoke(self, jti: str, ttl_s: int) -> None:
        self._revoked.set(jti, True, max(1, ttl_s))

    def is_revoked(self, jti: str) -> bool:
        return self._revoked.get(jti) is not None


class MemoryFailureCounters:
    """:class:`deltastream.auth.ports.FailureCounters` in memory (fixed windows, as on Redis)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counts = _Expiring(clock)

    def increment(self, key: str, window_s: int) -> Count:
        value = self._counts.get(key)
        if not isinstance(value, int):
            self._counts.set(key, 1, window_s)
            return Count(value=1, resets_in_s=window_s)
        self._counts.replace(key, value + 1)
        return Count(value=value + 1, resets_in_s=self._counts.ttl(key))

    def peek(self, key: str) -> Count:
        value = self._counts.get(key)
        if not isinstance(value, int):
            return Count(value=0, resets_in_s=0)
        return Count(value=value, resets_in_s=self._counts.ttl(key))

    def clear(self, key: str) -> None:
        self._counts.delete(key)
