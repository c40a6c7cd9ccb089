"""The feed: one scheduled invocation emits ``settings.feed_duration_s`` of market data onto the ticks
stream, one tick every ``settings.tick_interval_s`` seconds (ARCHITECTURE §1, §3).

Per tick: one ``underlying`` record per product and, every ``settings.chain_every`` ticks (counted
from the invocation's first tick, which has chains), one ``chain`` record per product and expiry,
carrying the tick id of that tick's underlying record. All the tick's records go out in one
``sink.put``, partition key = product, each product's underlying before its chains.

Tick ids come from ``FeedState.next_tick_ids`` (an atomic INCRBY in Redis): per product, increasing,
never reused, even by overlapping invocations. An invocation reserves, on the first tick of a product,
enough ids for the rest of its run; ids left unused by an early stop are skipped (gaps are allowed,
repeats are not).

The lease: two invocations driving the market at once would emit two diverging random walks, so an
invocation first takes the feed lease (``acquire_lease``, a Redis ``SET NX PX``). When another holds
it, it polls for up to ``lease_wait_s`` (default ``max(2 s, 2 tick intervals)``): enough for a
scheduled invocation that starts while the previous one emits its last tick, short of a whole run.
It then gives up and returns a ``skipped`` result (logged; the handler counts ``FeedSkipped``). The
lease lives ``max(15 s, 5 tick intervals)`` and is renewed before every tick, so a crashed invocation
blocks the feed for at most that long. An invocation that finds it has lost the lease stops at once
without saving (the new holder owns the state).

Pacing: tick i is emitted at start + i·interval (sleeping with the clock in between; a late tick is
emitted at once, not skipped). Before each tick, when the remaining invocation time (``deadline()``,
seconds) minus the wait falls below ``min_remaining_s``, the run stops early. Whatever ends the run —
the last tick, the deadline, the end of a replay, an error — the provider's state is saved and the
lease released before returning (or raising).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from deltastream.config import Settings
from deltastream.ports import Clock, FeedState, RecordSink
from deltastream.records import SCHEMA_VERSION, encode
from deltastream.services.providers import MarketDataProvider, ProviderTick

logger = logging.getLogger(__name__)

LEASE_POLL_S: Final = 0.25
MIN_LEASE_TTL_S: Final = 15.0
MIN_LEASE_WAIT_S: Final = 2.0

FeedStatus = Literal["completed", "stopped_early", "exhausted", "lease_lost", "skipped"]


class FeedLease(Protocol):
    """The feed lease (``RedisFeedState`` implements it): one holder at a time, with a TTL."""

    def acquire_lease(self, owner: str, ttl_s: float) -> bool:
        """Take the lease for ``ttl_s`` seconds if nobody holds it; True when ``owner`` got it."""
        ...

    def renew_lease(self, owner: str, ttl_s: float) -> bool:
        """Extend the lease if ``owner`` still holds it; False when it does not."""
        ...

    def release_lease(self, owner: str) -> bool: ...


class LeasedFeedState(FeedState, FeedLease, Protocol):
    """FeedState with the lease: what the feed needs from Redis."""


class SystemClock:
    """ports.Clock on the real clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What one invocation emitted. ``duration_s`` in seconds, lease wait included."""

    status: FeedStatus
    ticks: int = 0
    records: int = 0
    chains: int = 0
    products: tuple[str, ...] = ()
    first_tick_ids: dict[str, int] = field(default_factory=dict)
    last_tick_ids: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        summary = asdict(self)
        summary["products"] = list(self.products)
        return summary


def ticks_per_run(settings: Settings) -> int:
    """How many ticks one invocation emits: feed duration / tick interval (at least one)."""
    return max(1, int(settings.feed_duration_s / settings.tick_interval_s + 1e-9))


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC with millisecond precision and a ``Z`` (the records' ``ts``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_records(tick: ProviderTick, tick_ids: Mapping[str, int], ts: datetime) -> list[dict[str, Any]]:
    """The §3 stream records of one tick, each product's underlying first, then its chains."""
    stamp = iso_utc(ts)
    records: list[dict[str, Any]] = []
    for product in tick.products:
        tick_id = tick_ids[product]
        if product in tick.prices:
            records.append(
                {
                    "v": SCHEMA_VERSION,
                    "type": "underlying",
                    "product": product,
                    "tick_id": tick_id,
                    "price": tick.prices[product],
                    "ts": stamp,
                }
            )
        records.extend(
            {
                "v": SCHEMA_VERSION,
                "type": "chain",
                **fields,
                "product": product,
                "tick_id": tick_id,
                "ts": stamp,
            }
            for fields in tick.chains.get(product, ())
        )
    return records


class _TickIds:
    """Hands out tick ids, reserving a product's block for the rest of the run on first use."""

    def __init__(self, state: FeedState, ticks: int) -> None:
        self._state = state
        self._ticks = ticks
        self._blocks: dict[str, range] = {}
        self._used: dict[str, int] = {}

    def take(self, product: str, tick_index: int) -> int:
        block = self._blocks.get(product)
        if block is None or self._used[product] == len(block):
            block = self._blocks[product] = self._state.next_tick_ids(product, self._ticks - tick_index)
            self._used[product] = 0
        tick_id = block[self._used[product]]
        self._used[product] += 1
        return tick_id


@dataclass
class _Run:
    """Counters of a run in progress."""

    ticks: int = 0
    records: int = 0
    chains: int = 0
    first_tick_ids: dict[str, int] = field(default_factory=dict)
    last_tick_ids: dict[str, int] = field(default_factory=dict)

    def count(self, records: list[dict[str, Any]]) -> None:
        self.ticks += 1
        self.records += len(records)
        for record in records:
            self.first_tick_ids.setdefault(record["product"], record["tick_id"])
            self.last_tick_ids[record["product"]] = record["tick_id"]
            self.chains += record["type"] == "chain"

    def result(self, status: FeedStatus, duration_s: float) -> FeedResult:
        return FeedResult(
            status=status,
            ticks=self.ticks,
            records=self.records,
            chains=self.chains,
            products=tuple(self.first_tick_ids),
            first_tick_ids=dict(self.first_tick_ids),
            last_tick_ids=dict(self.last_tick_ids),
            duration_s=round(duration_s, 3),
        )


def run_feed(
    provider: MarketDataProvider,
    sink: RecordSink,
    state: LeasedFeedState,
    settings: Settings,
    *,
    clock: Clock,
    deadline: Callable[[], float] | None = None,
    owner: str | None = None,
    lease_wait_s: float | None = None,
    min_remaining_s: float = 1.0,
) -> FeedResult:
    """Emit one invocation's worth of market data (module docstring); the summary of what was sent.

    ``deadline()`` returns the seconds the invocation may still run (None: no limit); ``owner``
    identifies this invocation in the lease (a random id by default); ``lease_wait_s`` and
    ``min_remaining_s`` in seconds.
    """
    started = clock.now()
    interval = settings.tick_interval_s
    session = _Session(
        provider=provider,
        sink=sink,
        state=state,
        settings=settings,
        clock=clock,
        deadline=deadline,
        owner=owner or uuid.uuid4().hex,
        lease_ttl_s=max(MIN_LEASE_TTL_S, 5 * interval),
        min_remaining_s=min_remaining_s,
    )
    wait_s = max(MIN_LEASE_WAIT_S, 2 * interval) if lease_wait_s is None else lease_wait_s
    if not session.acquire_lease(wait_s):
        logger.info("feed lease held by another invocation for %.1f s; skipped", wait_s)
        return FeedResult(status="skipped", duration_s=_seconds_since(started, clock))
    status = session.run()
    result = session.counters.result(status, _seconds_since(started, clock))
    logger.info("feed %s", status, extra={"feed": result.as_dict()})
    return result


@dataclass
class _Session:
    """One invocation holding (or trying to take) the lease."""

    provider: MarketDataProvider
    sink: RecordSink
    state: LeasedFeedState
    settings: Settings
    clock: Clock
    deadline: Callable[[], float] | None
    owner: str
    lease_ttl_s: float
    min_remaining_s: float
    counters: _Run = field(default_factory=_Run)

    def acquire_lease(self, wait_s: float) -> bool:
        """Poll for the lease for up to ``wait_s`` seconds."""
        give_up_at = self.clock.now() + timedelta(seconds=wait_s)
        while not self.state.acquire_lease(self.owner, self.lease_ttl_s):
            remaining = (give_up_at - self.clock.now()).total_seconds()
            if remaining <= 0:
                return False
            self.clock.sleep(min(LEASE_POLL_S, remaining))
        return True

    def run(self) -> FeedStatus:
        """Emit the ticks; then save the provider's state and release the lease, even on an error."""
        status: FeedStatus = "completed"
        try:
            self.provider.start(self.clock.now())
            status = self._emit_ticks()
        finally:
            if status != "lease_lost":
                self.provider.save()
                self.state.release_lease(self.owner)
        return status

    def _emit_ticks(self) -> FeedStatus:
        """Emit the run's ticks on schedule, buffering them up to :data:`MAX_BUFFER_S` (as the Kinesis
        Producer Library's RecordMaxBufferedTime does) or :data:`CATCH_UP_RECORDS` records per put.
        At a 1 s tick interval every tick is its own put; at a few milliseconds, puts carry a few
        ticks each instead of hundreds of tiny requests a second; a run that falls behind (a slow put,
        a busy host) sends what is due together and catches up."""
        ticks = ticks_per_run(self.settings)
        tick_ids = _TickIds(self.state, ticks)
        first_tick_at = self.clock.now()
        pending: list[tuple[str, bytes]] = []
        buffered_since = first_tick_at
        renewed_at = first_tick_at
        renew_every = timedelta(seconds=self.lease_ttl_s / 5)
        try:
            for index in range(ticks):
                due = first_tick_at + timedelta(seconds=index * self.settings.tick_interval_s)
                wait = max((due - self.clock.now()).total_seconds(), 0.0)
                if self.deadline is not None and self.deadline() - wait < self.min_remaining_s:
                    logger.warning(
                        "stopping after %d of %d ticks: the invocation deadline is near", index, ticks
                    )
                    return "stopped_early"
                if wait:
                    if pending and (self.clock.now() - buffered_since).total_seconds() + wait > MAX_BUFFER_S:
                        self._flush(pending)  # what is due goes out before a wait that would age it
                    self.clock.sleep(wait)
                now = self.clock.now()
                if index and now - renewed_at >= renew_every:
                    if not self.state.renew_lease(self.owner, self.lease_ttl_s):
                        logger.error("feed lease lost after %d ticks; stopping without saving state", index)
                        pending.clear()
                        return "lease_lost"
                    renewed_at = now
                tick = self.provider.step(now, chains_due=index % self.settings.chain_every == 0)
                if tick is None:
                    logger.info("market data provider exhausted after %d ticks", index)
                    return "exhausted"
                ids = {product: tick_ids.take(product, index) for product in tick.products}
                records = build_records(tick, ids, tick.recorded_at or now)
                if not pending:
                    buffered_since = now
                pending.extend((record["product"], encode(record)) for record in records)
                self.counters.count(records)
                if len(pending) >= CATCH_UP_RECORDS:
                    self._flush(pending)
            return "completed"
        finally:
            self._flush(pending)

    def _flush(self, pending: list[tuple[str, bytes]]) -> None:
        if pending:
            self.sink.put(pending)
            pending.clear()


CATCH_UP_RECORDS = 400  # records per put at most (Kinesis takes ≤ 500 and ≤ 5 MiB)
MAX_BUFFER_S = 0.05  # how long a record may wait for others to share its put


def _seconds_since(started: datetime, clock: Clock) -> float:
    return round((clock.now() - started).total_seconds(), 3)
