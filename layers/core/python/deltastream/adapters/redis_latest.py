"""The enrichment's latest state in Redis (services.enrich.LatestState): read in two pipelined round
trips, written in one pipeline. Key names and TTLs: :mod:`deltastream.adapters.redis_keys`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis

from deltastream.adapters import redis_keys as keys
from deltastream.services.enrich import LatestSnapshot, LatestWrites, dumps, seen_key


def _json(value: bytes | str | None) -> Any:
    return None if value is None else json.loads(value)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLatestState:
    """LatestState on redis-py (ElastiCache or a local redis-server)."""

    def __init__(self, client: redis.Redis, *, iv_history_read: int = 2_000) -> None:
        self._redis = client
        self._iv_history_read = iv_history_read  # the newest N points feed IV rank / percentile

    def load(self, products: Iterable[str]) -> LatestSnapshot:
        products = sorted(set(products))
        snapshot = LatestSnapshot()
        if not products:
            return snapshot
        pipe = self._redis.pipeline(transaction=False)
        for product in products:
            pipe.zrange(keys.expiries(product), 0, -1)
            pipe.get(keys.seen(product, "underlying"))
            pipe.zrange(keys.iv_history(product), -self._iv_history_read, -1)
            for window in keys.BAR_WINDOWS:
                pipe.get(keys.bars(product, window))
        replies = iter(pipe.execute())
        expiries_of: dict[str, list[str]] = {}
        for product in products:
            expiries_of[product] = [_text(e) for e in next(replies)]
            seen = next(replies)
            if seen is not None:
                snapshot.seen[seen_key(product, "underlying")] = int(seen)
            snapshot.iv_history[product] = [json.loads(point)["atm_iv"] for point in next(replies)]
            for window in keys.BAR_WINDOWS:
                bar = _json(next(replies))
                if bar is not None:
                    snapshot.bars[(product, window)] = bar

        pairs = [(product, expiry) for product in products for expiry in expiries_of[product]]
        if pairs:
            pipe = self._redis.pipeline(transaction=False)
            for product, expiry in pairs:
                pipe.get(keys.latest_chain(product, expiry))
                pipe.get(keys.seen(product, "chain", expiry))
            replies = iter(pipe.execute())
            for product, expiry in pairs:
                chain = _json(next(replies))
                seen = next(replies)
                if chain is not None:
                    snapshot.chains[(product, expiry)] = chain
                if seen is not None:
                    snapshot.seen[seen_key(product, "chain", expiry)] = int(seen)
        return snapshot

    def save(self, writes: LatestWrites) -> None:
        ttl = keys.LATEST_TTL_S
        pipe = self._redis.pipeline(transaction=False)
        for product, document in writes.underlyings.items():
            pipe.set(keys.latest_underlying(product), dumps(document), ex=ttl)
        for (product, expiry), document in writes.chains.items():
            pipe.set(keys.latest_chain(product, expiry), dumps(document), ex=ttl)
            day = date.fromisoformat(expiry)
            score = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            pipe.zadd(keys.expiries(product), {expiry: score})
            # expiries more than two days past leave the set (and with them their cached chains)
            stale = (datetime.now(UTC) - timedelta(days=2)).timestamp()
            pipe.zremrangebyscore(keys.expiries(product), "-inf", stale)
            pipe.expire(keys.expiries(product), ttl)
        for product, document in writes.summaries.items():
            pipe.set(keys.latest_summary(product), dumps(document), ex=ttl)
        for (product, window), document in writes.bars.items():
            pipe.set(keys.bars(product, window), dumps(document), ex=ttl)
        for product, points in writes.iv_points.items():
            key = keys.iv_history(product)
            pipe.zadd(key, {dumps(p): p["tick_id"] for p in points})
            pipe.zremrangebyrank(key, 0, -(keys.IV_HISTORY_MAX + 1))
            pipe.expire(key, keys.IV_HISTORY_TTL_S)
        for product, document in writes.surfaces.items():
            pipe.set(keys.surface(product), dumps(document), ex=ttl)
        for marker, tick_id in writes.seen.items():
            product, kind, expiry = marker.split(":")
            pipe.set(keys.seen(product, kind, None if expiry == "-" else expiry), tick_id, ex=ttl)
        pipe.execute()
