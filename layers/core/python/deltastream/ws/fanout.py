"""FanoutFunction's use case: enriched records → events → the rooms' connections (ARCHITECTURE §6).

Per record: ``enriched_underlying`` → ``underlying_update`` (the record) to ``general`` and
``product:SYM``; ``enriched_chain`` → ``chain_summary`` (its summary fields, small) to ``general`` and
``chain_update`` (the whole enriched chain, reduced to fit 128 KB: :mod:`.messages`) to ``chain:SYM``.

Every update is delivered, in order: a client sees each tick of its rooms (a dashboard's candles and
build-up tables need all of them). Updates at or below the tick id this sandbox last sent for the same
(event, product, expiry) are dropped: the enriched stream is at-least-once (a retried batch redelivers
records), and a client must never see prices go back in time. Order per connection is kept by posting
in waves: wave k carries every connection's k-th message, all at once, and the next wave starts when
it is done; connections never wait on each other within a wave. One message goes to every member of
its rooms once: a connection in both ``general`` and ``product:NIFTY`` gets one ``underlying_update``.

Cost per batch: one Redis round trip for the members of every room touched, one encoding per
message (shared by all its recipients), then every post at once; the connections that answer 410 are
removed in one more round trip, each with exactly the rooms it was found in (never any other
connection).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import orjson

from deltastream.ws.connections import Poster, PostReport
from deltastream.ws.messages import MAX_MESSAGE_BYTES, chain_summary, fit_event
from deltastream.ws.protocol import GENERAL, chain_room, product_room

logger = logging.getLogger(__name__)

ENRICHED_TYPES: Final = ("enriched_underlying", "enriched_chain")


class InvalidEnrichedRecord(ValueError):
    """An enriched-stream record this function cannot fan out; the message says why."""


def parse_enriched(data: bytes) -> dict[str, Any]:
    """Decode one enriched record and check the fields routing needs (the rest is passed through)."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidEnrichedRecord(f"not JSON: {error}") from None
    if not isinstance(record, dict):
        raise InvalidEnrichedRecord("a record must be a JSON object")
    if record.get("v") != 1:
        raise InvalidEnrichedRecord(f"unsupported schema version {record.get('v')!r}")
    if record.get("type") not in ENRICHED_TYPES:
        raise InvalidEnrichedRecord(f"not an enriched record type: {record.get('type')!r}")
    if not isinstance(record.get("product"), str) or not record["product"]:
        raise InvalidEnrichedRecord("missing product")
    tick_id = record.get("tick_id")
    if not isinstance(tick_id, int) or isinstance(tick_id, bool):
        raise InvalidEnrichedRecord("missing or non-integer tick_id")
    if record["type"] == "enriched_chain" and not isinstance(record.get("expiry"), str):
        raise InvalidEnrichedRecord("a chain needs its expiry")
    return record


UpdateKey = tuple[str, str, str | None]  # (event, product, expiry)


@dataclass(frozen=True, slots=True)
class Update:
    """One event to send to the members of ``rooms``."""

    event: str
    product: str
    expiry: str | None
    tick_id: int
    rooms: tuple[str, ...]
    data: Mapping[str, Any]

    @property
    def key(self) -> UpdateKey:
        return (self.event, self.product, self.expiry)


def updates_of(record: Mapping[str, Any]) -> list[Update]:
    """The events one enriched record becomes."""
    product, tick_id = record["product"], record["tick_id"]
    if record["type"] == "enriched_underlying":
        rooms = (GENERAL, product_room(product))
        return [Update("underlying_update", product, None, tick_id, rooms, record)]
    expiry = record["expiry"]
    return [
        Update("chain_summary", product, expiry, tick_id, (GENERAL,), chain_summary(record)),
        Update("chain_update", product, expiry, tick_id, (chain_room(product),), record),
    ]


def updates_in_order(records: Iterable[Mapping[str, Any]]) -> list[Update]:
    """Every update of the batch, in stream order."""
    return [update for record in records for update in updates_of(record)]


class Members(Protocol):
    def members(self, rooms: Iterable[str]) -> dict[str, set[str]]: ...

    def remove_many(self, gone: Sequence[tuple[str, Iterable[str]]]) -> int: ...


@dataclass
class FanoutResult:
    records: int = 0
    messages: int = 0  # updates sent (after dropping redeliveries)
    stale: int = 0  # at or below what this sandbox already sent (redeliveries)
    waves: int = 0  # rounds of concurrent posts (the most messages any one connection got)
    posts: int = 0
    report: PostReport = field(default_factory=PostReport)
    removed: int = 0  # connections forgotten after a 410
    reduced: dict[str, int] = field(default_factory=dict)  # reduction → messages
    oversize: int = 0  # could not be made to fit: not sent (logged)
    latency_ms: float = 0.0


class Fanout:
    """Sends a batch of enriched records to the connections of their rooms."""

    def __init__(self, *, registry: Members, poster: Poster, limit: int = MAX_MESSAGE_BYTES) -> None:
        self._registry = registry
        self._poster = poster
        self._limit = limit
        self._sent: dict[UpdateKey, int] = {}  # newest tick id sent per key, in this sandbox

    def publish(self, records: Sequence[Mapping[str, Any]]) -> FanoutResult:
        started = time.perf_counter()
        result = FanoutResult(records=len(records))
        fresh = []
        for update in updates_in_order(records):
            if update.tick_id <= self._sent.get(update.key, -1):
                result.stale += 1
                continue
            self._sent[update.key] = update.tick_id
            fresh.append(update)
        result.messages = len(fresh)
        members = self._registry.members({room for u in fresh for room in u.rooms})
        queues: dict[str, list[bytes]] = {}  # connection → its messages, in order
        rooms_of: dict[str, set[str]] = {}  # connection → rooms it was found in (for a 410)
        for update in fresh:
            recipients = set().union(*(members.get(room, set()) for room in update.rooms))
            for room in update.rooms:
                for connection_id in members.get(room, ()):
                    rooms_of.setdefault(connection_id, set()).add(room)
            if recipients:
                payload = self._encode(update, result)
                if payload is not None:
                    for connection_id in recipients:
                        queues.setdefault(connection_id, []).append(payload)
        result.posts = sum(len(q) for q in queues.values())
        gone_now: set[str] = set()
        wave = 0
        while True:
            deliveries = [
                (cid, q[wave]) for cid, q in queues.items() if wave < len(q) and cid not in gone_now
            ]
            if not deliveries:
                break
            report = self._poster.post_many(deliveries)
            result.report.merge(report)
            gone_now.update(report.gone)
            wave += 1
        result.waves = wave
        gone = list(dict.fromkeys(result.report.gone))
        if gone:
            result.removed = self._registry.remove_many([(cid, rooms_of.get(cid, ())) for cid in gone])
        result.latency_ms = (time.perf_counter() - started) * 1e3
        return result

    def _encode(self, update: Update, result: FanoutResult) -> bytes | None:
        fitted = fit_event(update.event, update.data, self._limit)
        if fitted.reduction is not None:
            result.reduced[fitted.reduction] = result.reduced.get(fitted.reduction, 0) + 1
            logger.warning(
                "%s of %s %s reduced to fit %d bytes: %s",
                update.event, update.product, update.expiry, self._limit, fitted.reduction,
            )  # fmt: skip
        if fitted.oversize:
            result.oversize += 1
            logger.error(
                "%s of %s is %d bytes even reduced, over %d: not sent",
                update.event, update.product, len(fitted.payload), self._limit,
            )  # fmt: skip
            return None
        return fitted.payload
