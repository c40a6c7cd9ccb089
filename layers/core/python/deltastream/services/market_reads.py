"""Reads of market data for the REST API: the latest state from Redis first, MongoDB history when
Redis has nothing (a miss, an expired key, or Redis unreachable).

Pure of HTTP: each function takes the Redis client (:class:`LatestReader`) and the history
(:class:`deltastream.ports.History`), and raises :class:`NoData` (nothing stored yet) or
:class:`StorageUnavailable` (neither store answered). Documents come back as the enrichment wrote them
(:mod:`deltastream.services.enrich`), without MongoDB's ``_id`` and ``ts_date``.

What Redis holds (keys: :mod:`deltastream.adapters.redis_keys`) is the newest state only; history
(ranges, ``limit > 1``, finished bars, PCR series) always comes from MongoDB.

Cold start: nothing here imports pymongo or numpy. MongoDB is reached only on the fallback paths, so
the history handed in may be a :class:`LazyHistory` that connects on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Generic, Literal, Protocol, TypeVar

import orjson
import redis

from deltastream.adapters import redis_keys as keys
from deltastream.ports import History

logger = logging.getLogger(__name__)

# The collections the enrichment writes (services.enrich; adapters.mongo names the same ones).
TICKS: Final = "ticks"
CHAINS: Final = "chains"
BARS: Final = "bars"

EXPIRY_GRACE_DAYS: Final = 2  # as the enrichment's expiries ZSET: expiries this far past still listed
RECENT_CHAINS: Final = 64  # chain snapshots scanned for expiries when Redis has none (no distinct())
_HIDDEN_FIELDS: Final = ("_id", "ts_date")  # storage details, not part of the records

Source = Literal["redis", "mongodb", "redis+mongodb"]
T = TypeVar("T")
V = TypeVar("V")


class MarketDataError(Exception):
    """A read that cannot be answered; the message is fit for a client."""


class NoData(MarketDataError, LookupError):
    """Nothing stored yet for what was asked (the feed is not running, or not for this product)."""


class StorageUnavailable(MarketDataError):
    """Neither Redis nor MongoDB answered."""


class LatestReader(Protocol):
    """The Redis commands the reads use (redis.Redis satisfies it; values are bytes)."""

    def get(self, name: str) -> Any: ...

    def zrange(self, name: str, start: int, end: int) -> Any: ...

    def zcard(self, name: str) -> Any: ...

    def ping(self) -> Any: ...


class LazyHistory:
    """A :class:`~deltastream.ports.History` built on first use: the REST functions reach MongoDB only
    on fallback paths, so they skip pymongo's import and connection on cold starts that never need it."""

    def __init__(self, build: Callable[[], History]) -> None:
        self._build = build
        self._history: History | None = None

    def _get(self) -> History:
        if self._history is None:
            self._history = self._build()
        return self._history

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> int:
        return self._get().upsert(collection, documents)

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        return self._get().find(collection, filter, sort=sort, limit=limit)


@dataclass(frozen=True, slots=True)
class Found(Generic[V]):
    """A value and the store it came from."""

    value: V
    source: Source


# --- store access ------------------------------------------------------------------------------------


def _is_storage_error(error: Exception) -> bool:
    if isinstance(error, OSError):  # sockets (the embedded store's included)
        return True
    try:
        from pymongo.errors import PyMongoError  # loaded already whenever a history query ran
    except ImportError:  # pragma: no cover - pymongo is a runtime dependency
        return False
    return isinstance(error, PyMongoError)


def _from_redis(read: Callable[[], T], what: str, *, fallback: bool = True) -> T | None:
    """``read()``; None when Redis is unreachable and a fallback exists (logged), else
    :class:`StorageUnavailable`."""
    try:
        return read()
    except redis.RedisError as error:
        if not fallback:
            raise StorageUnavailable(f"Redis is unavailable ({type(error).__name__})") from error
        logger.warning("Redis unavailable reading %s; falling back to MongoDB: %r", what, error)
        return None


def _json(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else None


def _redis_json(latest: LatestReader, key: str, *, fallback: bool = True) -> dict[str, Any] | None:
    return _json(_from_redis(lambda: latest.get(key), key, fallback=fallback))


def _find(
    history: History,
    collection: str,
    filter: Mapping[str, Any],
    *,
    sort: Sequence[tuple[str, int]] = (),
    limit: int = 0,
) -> list[dict[str, Any]]:
    try:
        documents = history.find(collection, filter, sort=sort, limit=limit)
    except Exception as error:
        if _is_storage_error(error):
            raise StorageUnavailable(f"MongoDB is unavailable ({type(error).__name__})") from error
        raise
    return [{k: v for k, v in d.items() if k not in _HIDDEN_FIELDS} for d in documents]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def ping(latest: LatestReader) -> bool:
    """Whether Redis answers a PING."""
    try:
        return bool(latest.ping())
    except redis.RedisError:
        return False


# --- underlying ticks --------------------------------------------------------------------------------


def _tick(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: document[k] for k in ("product", "tick_id", "price", "ts")}


def ticks(
    latest: LatestReader,
    history: History,
    product: str,
    *,
    limit: int = 100,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Found[list[dict[str, Any]]]:
    """The newest ``limit`` underlying ticks of ``product`` in [start, end], newest first.

    The latest tick comes from Redis when only it is asked for (``limit == 1``, no range). A range
    with no ticks is an empty list; no tick at all without a range is :class:`NoData`.
    """
    ranged = start is not None or end is not None
    if limit == 1 and not ranged:
        record = _redis_json(latest, keys.latest_underlying(product))
        if record is not None:
            return Found([_tick(record)], "redis")
    query: dict[str, Any] = {"product": product}
    if ranged:
        bounds = {"$gte": start, "$lte": end}
        query["ts_date"] = {op: bound for op, bound in bounds.items() if bound is not None}
    documents = _find(history, TICKS, query, sort=[("tick_id", -1)], limit=limit)
    if not documents and not ranged:
        raise NoData(f"no ticks yet for {product}: is the feed running?")
    return Found([_tick(d) for d in documents], "mongodb")


# --- expiries and chains -----------------------------------------------------------------------------


def nearest_expiry(expiries: Sequence[str], today: date) -> str:
    """The first expiry on or after ``today``; the last one when all have passed. ISO dates sort as
    dates, so plain string order is date order."""
    upcoming = sorted(e for e in expiries if e >= today.isoformat())
    return upcoming[0] if upcoming else max(expiries)


def expiries(latest: LatestReader, history: History, product: str, *, today: date) -> Found[list[str]]:
    """The expiries of ``product`` in date order: the enrichment's ZSET, else those of the newest
    :data:`RECENT_CHAINS` chain snapshots in MongoDB (at most :data:`EXPIRY_GRACE_DAYS` past, as the
    ZSET keeps them)."""
    members = _from_redis(lambda: latest.zrange(keys.expiries(product), 0, -1), keys.expiries(product))
    if members:
        return Found([_text(m) for m in members], "redis")
    recent = _find(history, CHAINS, {"product": product}, sort=[("tick_id", -1)], limit=RECENT_CHAINS)
    oldest = (today - timedelta(days=EXPIRY_GRACE_DAYS)).isoformat()
    found = sorted({d["expiry"] for d in recent if d["expiry"] >= oldest})
    if not found:
        raise NoData(f"no expiries yet for {product}: is the feed running?")
    return Found(found, "mongodb")


@dataclass(frozen=True, slots=True)
class Chains:
    """Enriched chain records of one expiry, newest first."""

    expiry: str
    records: list[dict[str, Any]]
    source: Source


def chains(
    latest: LatestReader,
    history: History,
    product: str,
    *,
    today: date,
    expiry: str | None = None,
    limit: int = 1,
) -> Chains:
    """The newest ``limit`` enriched chains of ``expiry`` (default: the nearest one), newest first:
    the latest from Redis when ``limit == 1``, history from MongoDB otherwise or on a miss."""
    if expiry is None:
        expiry = nearest_expiry(expiries(latest, history, product, today=today).value, today)
    if limit == 1:
        record = _redis_json(latest, keys.latest_chain(product, expiry))
        if record is not None:
            return Chains(expiry, [record], "redis")
    documents = _find(
        history, CHAINS, {"product": product, "expiry": expiry}, sort=[("tick_id", -1)], limit=limit
    )
    if not documents:
        raise NoData(f"no chain yet for {product} {expiry}: is the feed running?")
    return Chains(expiry, documents, "mongodb")


def summary(
    latest: LatestReader, history: History, product: str, *, today: date, expiry: str | None = None
) -> Found[dict[str, Any]]:
    """The analytics of the newest chain of ``expiry`` (default: the nearest one, whose summary the
    enrichment keeps in Redis). The fallback is that chain itself: it carries every summary field."""
    if expiry is None:
        record = _redis_json(latest, keys.latest_summary(product))
        if record is not None:
            return Found(record, "redis")
    found = chains(latest, history, product, today=today, expiry=expiry, limit=1)
    return Found(found.records[0], found.source)


def pcr_series(history: History, product: str, expiry: str, *, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` put/call ratios of ``expiry``, oldest first (``ts``, ``tick_id``,
    ``pcr_oi``, ``pcr_volume``)."""
    documents = _find(
        history, CHAINS, {"product": product, "expiry": expiry}, sort=[("tick_id", -1)], limit=limit
    )
    fields = ("ts", "tick_id", "pcr_oi", "pcr_volume")
    return [{k: d.get(k) for k in fields} for d in reversed(documents)]


# --- bars, surface, IV history -----------------------------------------------------------------------

_BAR_FIELDS: Final = ("window", "start", "open", "high", "low", "close", "ticks", "first_ts", "last_ts")


def bars(
    latest: LatestReader, history: History, product: str, window: int, *, limit: int
) -> Found[list[dict[str, Any]]]:
    """The newest ``limit`` OHLC bars of ``window`` minutes, oldest first: finished bars from MongoDB,
    then the open bar from Redis (MongoDB's copy of the open bar lags it by up to one batch)."""
    key = keys.bars(product, window)  # raises ValueError for a window the enrichment does not build
    current = _redis_json(latest, key)
    stored = _find(history, BARS, {"product": product, "window": window}, sort=[("start", -1)], limit=limit)
    if current is not None:
        stored = [b for b in stored if b["start"] != current["start"]][: limit - 1]
    series = [*reversed(stored), *([current] if current is not None else [])]
    if not series:
        raise NoData(f"no {window}-minute bars yet for {product}: is the feed running?")
    source: Source = "mongodb" if current is None else ("redis+mongodb" if stored else "redis")
    return Found([{k: b[k] for k in _BAR_FIELDS} for b in series], source)


def surface(latest: LatestReader, product: str) -> dict[str, Any]:
    """The latest volatility surface (Redis only: it is derived state, not history)."""
    document = _redis_json(latest, keys.surface(product), fallback=False)
    if document is None:
        raise NoData(f"no volatility surface yet for {product}: is the feed running?")
    return document


def iv_history_length(latest: LatestReader, product: str) -> int | None:
    """How many ATM IV observations IV rank and percentile stand on; None when Redis is unreachable."""
    count = _from_redis(lambda: latest.zcard(keys.iv_history(product)), keys.iv_history(product))
    return None if count is None else int(count)
