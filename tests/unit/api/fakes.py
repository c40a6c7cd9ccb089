"""In-memory stand-ins for the ports the REST reads use: Redis (LatestReader) and MongoDB (History)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import redis


class FakeRedis:
    """The LatestReader subset of Redis: string values and sorted sets, as bytes; ``down`` fails
    every command as an unreachable server does."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.zsets: dict[str, dict[bytes, float]] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    def set_json(self, key: str, value: Any) -> None:
        self.values[key] = orjson.dumps(value)

    def get(self, name: str) -> Any:
        self._check()
        return self.values.get(name)

    def zrange(self, name: str, start: int, end: int) -> Any:
        self._check()
        members = sorted(self.zsets.get(name, {}).items(), key=lambda item: (item[1], item[0]))
        stop = None if end == -1 else end + 1
        return [m for m, _ in members][start:stop]

    def zcard(self, name: str) -> Any:
        self._check()
        return len(self.zsets.get(name, {}))

    def ping(self) -> Any:
        self._check()
        return True


def _matches(document: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    for field, condition in filter.items():
        value = document.get(field)
        if isinstance(condition, Mapping):
            if "$gte" in condition and not value >= condition["$gte"]:
                return False
            if "$lte" in condition and not value <= condition["$lte"]:
                return False
        elif value != condition:
            return False
    return True


class MemoryHistory:
    """ports.History over dicts: equality and $gte/$lte filters, sort, limit; ``down`` fails like a
    lost connection."""

    def __init__(self) -> None:
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.down = False
        self.finds = 0

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> int:
        stored = self.collections.setdefault(collection, {})
        new = sum(1 for d in documents if d["_id"] not in stored)
        stored.update({d["_id"]: copy.deepcopy(dict(d)) for d in documents})
        return new

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        self.finds += 1
        if self.down:
            raise ConnectionError("MongoDB is away")
        found = [
            copy.deepcopy(d) for d in self.collections.get(collection, {}).values() if _matches(d, filter)
        ]
        for field, direction in reversed(sort):
            found.sort(key=lambda d: d[field], reverse=direction < 0)
        return found[:limit] if limit else found
