"""A room's latest cached value, read from the enrichment's latest-state keys in Redis: what a client
receives right after it subscribes (ARCHITECTURE §6)."""

from __future__ import annotations

from typing import Any

import orjson
import redis

from deltastream.adapters import redis_keys as keys


class RedisSnapshots:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def underlying(self, symbol: str) -> Any:
        """The newest enriched underlying record of ``symbol`` (price, OHLC bars), or None."""
        return self._json(self._redis.get(keys.latest_underlying(symbol)))

    def chain(self, symbol: str) -> Any:
        """The newest enriched chain of the nearest expiry; its summary when the chain itself is gone;
        None when nothing is cached."""
        summary = self._json(self._redis.get(keys.latest_summary(symbol)))
        if not isinstance(summary, dict) or not isinstance(summary.get("expiry"), str):
            return summary
        chain = self._json(self._redis.get(keys.latest_chain(symbol, summary["expiry"])))
        return chain if chain is not None else summary

    @staticmethod
    def _json(raw: bytes | str | None) -> Any:
        return None if raw is None else orjson.loads(raw)
