"""In-memory counterparts of the feed's ports (our interfaces, not AWS): state with lease, sink, clock."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from deltastream.records import parse_record

START = datetime(2025, 11, 3, 4, 0, tzinfo=UTC)  # a Monday, 09:30 in Mumbai


class FakeClock:
    """ports.Clock whose time only moves when someone sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)

    def elapsed_s(self, since: datetime = START) -> float:
        return (self.current - since).total_seconds()


class MemoryFeedState:
    """FeedState plus the lease, in memory; the lease expires on ``clock``'s time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.counters: dict[str, int] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.saves = 0
        self.lease_owner: str | None = None
        self.lease_until = clock.now()

    def next_tick_ids(self, product: str, count: int) -> range:
        last = self.counters.get(product, 0) + count
        self.counters[product] = last
        return range(last - count + 1, last + 1)

    def load(self, product: str) -> dict[str, Any] | None:
        state = self.states.get(product)
        return None if state is None else copy.deepcopy(state)

    def save(self, product: str, state: Mapping[str, Any]) -> None:
        self.saves += 1
        self.states[product] = json.loads(json.dumps(state))  # what Redis would hand back

    def hold_lease(self, owner: str, seconds: float) -> None:
        self.lease_owner = owner
        self.lease_until = self.clock.now() + timedelta(seconds=seconds)

    def _lease_holder(self) -> str | None:
        return self.lease_owner if self.clock.now() < self.lease_until else None

    def acquire_lease(self, owner: str, ttl_s: float) -> bool:
        if self._lease_holder() is not None:
            return False
        self.hold_lease(owner, ttl_s)
        return True

    def renew_lease(self, owner: str, ttl_s: float) -> bool:
        if self._lease_holder() != owner:
            return False
        self.hold_lease(owner, ttl_s)
        return True

    def release_lease(self, owner: str) -> bool:
        if self._lease_holder() != owner:
            return False
        self.lease_owner = None
        return True


class MemorySink:
    """ports.RecordSink that keeps every put, records parsed and validated."""

    def __init__(self) -> None:
        self.puts: list[list[tuple[str, dict[str, Any]]]] = []

    def put(self, records: Sequence[tuple[str, bytes]]) -> None:
        self.puts.append([(key, parse_record(data)) for key, data in records])

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for put in self.puts for _, record in put]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [record for record in self.records if record["type"] == kind]
