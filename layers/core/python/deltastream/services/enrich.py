"""Enrich a batch of stream records: analytics from the domain, history to MongoDB, latest state to
Redis, enriched records to the next stream.

One batch costs a fixed number of round trips whatever its size: one Redis read pipeline, one IV and
one Greeks evaluation over every quote of every chain in the batch (vectorised), one bulk write per
MongoDB collection, one PutRecords call, one Redis write pipeline.

Replays change nothing. Each (product, type, expiry) remembers the newest tick id it applied (the
``seen`` marks); a record at or below it is a redelivery and is skipped entirely. The marks are written
last, after MongoDB and the enriched stream, so a batch that fails half-way is redone in full on the
retry (history upserts are idempotent, keyed on the record's idempotency key; the enriched stream is
then at-least-once, consumers drop tick ids they have seen). Records of one product arrive in order
(Kinesis orders per partition key), so "newer" is well defined.
"""

from __future__ import annotations

import functools
import math
import operator
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray

from deltastream.domain import bars, chain, pricing, volatility
from deltastream.domain.expiries import time_to_expiry
from deltastream.domain.products import PRODUCTS
from deltastream.ports import History, RecordSink
from deltastream.records import encode, idempotency_key
from deltastream.services.retry import no_retry

TICKS: Final = "ticks"
CHAINS: Final = "chains"
BARS: Final = "bars"
WINDOWS: Final = bars.WINDOWS  # 1, 5, 15 minutes
MIN_T_YEARS: Final = 60.0 / (365.0 * 86_400.0)  # one minute: the floor on time to expiry
IV_HISTORY_LIMIT: Final = 10_000

FloatArray = NDArray[np.float64]
T = TypeVar("T")


# --- the latest-state port (Redis) -------------------------------------------------------------------


@dataclass
class LatestSnapshot:
    """What the enrichment reads before computing: previous chains, current bars, seen marks, history."""

    chains: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (product, expiry)
    bars: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (product, window)
    seen: dict[str, int] = field(default_factory=dict)  # seen_key → newest tick id applied
    iv_history: dict[str, list[float]] = field(default_factory=dict)  # product → ATM IVs, oldest first


@dataclass
class LatestWrites:
    """What the enrichment writes back, in one pipeline."""

    underlyings: dict[str, dict[str, Any]] = field(default_factory=dict)
    chains: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    bars: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    iv_points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    surfaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)


class Retry(Protocol):
    def __call__(self, operation: Callable[[], T], what: str) -> T: ...


class LatestState(Protocol):
    def load(self, products: Iterable[str]) -> LatestSnapshot: ...

    def save(self, writes: LatestWrites) -> None: ...


def seen_key(product: str, kind: str, expiry: str | None = None) -> str:
    return f"{product}:{kind}:{expiry or '-'}"


# --- results -----------------------------------------------------------------------------------------


@dataclass
class EnrichResult:
    """What one batch did (for logs and metrics)."""

    received: int = 0
    enriched: int = 0
    redeliveries: int = 0  # skipped: already applied
    stored: dict[str, int] = field(default_factory=dict)  # collection → documents written
    compute_ms: float = 0.0
    io_ms: float = 0.0


# --- helpers -----------------------------------------------------------------------------------------


def _parse_ts(ts: str) -> datetime:
    moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def _json_numbers(values: FloatArray, decimals: int = 8) -> list[float | None]:
    """A float array as JSON-ready numbers: rounded, NaN/inf → None (JSON has no NaN)."""
    rounded = np.round(values, decimals).tolist()
    return [v if v is not None and math.isfinite(v) else None for v in rounded]


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _years_to_expiry(product: str, expiry: str, now: datetime) -> float:
    """ACT/365 to the product's expiry close (its exchange's close time); end of the UTC day for a
    product the catalogue does not know (e.g. replayed data)."""
    day = date.fromisoformat(expiry)
    known = PRODUCTS.get(product)
    if known is not None:
        years = time_to_expiry(known, day, now)
    else:
        close = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        years = max((close - now).total_seconds(), 0.0) / (365.0 * 86_400.0)
    return max(years, MIN_T_YEARS) if years > 0 else 0.0


def _bar_from_dict(document: Mapping[str, Any]) -> bars.Bar:
    return bars.Bar(
        window_minutes=int(document["window"]),
        start=datetime.fromisoformat(document["start"]),
        open=float(document["open"]),
        high=float(document["high"]),
        low=float(document["low"]),
        close=float(document["close"]),
        ticks=int(document["ticks"]),
        first_ts=datetime.fromisoformat(document["first_ts"]),
        last_ts=datetime.fromisoformat(document["last_ts"]),
    )


# --- chain analytics, vectorised over a whole batch ---------------------------------------------------


@dataclass
class _Quotes:
    """Every quote of every chain in the batch, calls then puts per chain, as flat arrays."""

    offsets: list[int]  # chain i's quotes are [offsets[i], offsets[i+1])
    flag: FloatArray
    spot: FloatArray
    strike: FloatArray
    t: FloatArray
    r: FloatArray
    q: FloatArray
    mid: FloatArray
    last: FloatArray
    oi: FloatArray
    volume: FloatArray


_QUOTE_FIELDS = operator.itemgetter("strike", "bid", "ask", "last", "oi", "volume")


def _gather_quotes(chains: Sequence[dict[str, Any]], times: Sequence[float]) -> _Quotes:
    offsets = [0]
    rows: list[tuple[Any, ...]] = []
    sides: list[int] = []  # quotes per side, calls then puts, chain after chain
    for record in chains:
        for side in ("calls", "puts"):
            rows.extend(map(_QUOTE_FIELDS, record[side]))
            sides.append(len(record[side]))
        offsets.append(len(rows))
    strike, bid, ask, last, oi, volume = np.array(rows, dtype=np.float64).reshape(-1, 6).T.copy()
    per_side = np.array(sides)
    per_chain = per_side.reshape(-1, 2).sum(axis=1)

    def each_chain(values: Iterable[float]) -> FloatArray:
        return np.repeat(np.fromiter(values, dtype=np.float64, count=len(chains)), per_chain)

    # Mid of a two-sided quote; a one-sided quote (no bid) is worth at most its ask: use the last trade.
    mid = np.where((bid > 0) & (ask > 0), 0.5 * (bid + ask), last)
    return _Quotes(
        offsets=offsets,
        flag=np.repeat(np.tile([1.0, -1.0], len(chains)), per_side),
        spot=each_chain(float(r["spot"]) for r in chains),
        strike=strike,
        t=each_chain(times),
        r=each_chain(float(r["r"]) for r in chains),
        q=each_chain(float(r["q"]) for r in chains),
        mid=mid,
        last=last,
        oi=oi,
        volume=volume,
    )


def _json_column(values: FloatArray, decimals: int) -> list[float | None]:
    """A whole column at once: rounded, with NaN/inf as None."""
    rounded = np.round(values, decimals)
    column = rounded.astype(object)
    column[~np.isfinite(rounded)] = None
    return column.tolist()  # type: ignore[no-any-return]


def _quote_documents(
    quotes: list[dict[str, Any]], columns: Mapping[str, list[float | None]], rows: slice
) -> list[dict[str, Any]]:
    return [
        {**quote, "iv": i, "delta": d, "gamma": g, "vega": v, "theta": th}
        for quote, i, d, g, v, th in zip(
            quotes,
            columns["iv"][rows],
            columns["delta"][rows],
            columns["gamma"][rows],
            columns["vega"][rows],
            columns["theta"][rows],
            strict=True,
        )
    ]


_PREVIOUS_FIELDS = operator.itemgetter("strike", "last", "oi")


def _previous_quotes(
    records: Sequence[dict[str, Any]], quotes: _Quotes, cached: Mapping[tuple[str, str], dict[str, Any]]
) -> tuple[FloatArray, FloatArray]:
    """Each quote's last price and OI in the previous snapshot of its expiry (earlier in this batch,
    else the cached latest chain), aligned by strike; a quote with no previous snapshot gets its own
    values (no change: NEUTRAL)."""
    prev_last, prev_oi = quotes.last.copy(), quotes.oi.copy()
    latest: dict[tuple[str, str], tuple[FloatArray, FloatArray, FloatArray]] = {}
    for i, record in enumerate(records):
        key = (record["product"], record["expiry"])
        rows = slice(quotes.offsets[i], quotes.offsets[i + 1])
        strikes = quotes.strike[rows]
        previous = latest.get(key)
        if previous is None and key in cached:
            table = np.array(
                [_PREVIOUS_FIELDS(q) for side in ("calls", "puts") for q in cached[key][side]],
                dtype=np.float64,
            ).reshape(-1, 3)
            previous = (table[:, 0], table[:, 1], table[:, 2])
        if previous is not None:
            p_strikes, p_last, p_oi = previous
            if np.array_equal(p_strikes, strikes):
                prev_last[rows], prev_oi[rows] = p_last, p_oi
            else:  # the ladder moved: align each side by strike
                n, m = strikes.size // 2, p_strikes.size // 2
                for side in (slice(0, n), slice(n, 2 * n)):
                    p_side = slice(0, m) if side.start == 0 else slice(m, 2 * m)
                    aligned = chain.align_snapshots(
                        p_strikes[p_side], p_last[p_side], p_oi[p_side],
                        strikes[side], quotes.last[rows][side], quotes.oi[rows][side],
                    )  # fmt: skip
                    prev_last[rows][side], prev_oi[rows][side] = aligned.prev_price, aligned.prev_oi
        latest[key] = (strikes, quotes.last[rows], quotes.oi[rows])
    return prev_last, prev_oi


def _buildup_rows(
    strikes: list[float], labels: list[str], oi_change: list[int], n: int
) -> list[dict[str, Any]]:
    """One row per strike: calls are the first ``n`` quotes of the chain, puts the next ``n``."""
    return [
        {"strike": k, "call": c, "call_oi_change": co, "put": p, "put_oi_change": po}
        for k, c, co, p, po in zip(strikes, labels[:n], oi_change[:n], labels[n:], oi_change[n:], strict=True)
    ]


@dataclass
class _ChainComputed:
    record: dict[str, Any]  # the enriched record
    summary: dict[str, Any]
    atm_iv: float
    surface_points: tuple[float, FloatArray, float, FloatArray]  # t, strikes, forward, ivs


def _enrich_chains(
    records: Sequence[dict[str, Any]],
    previous: dict[tuple[str, str], dict[str, Any]],
    history: Mapping[str, list[float]],
) -> list[_ChainComputed]:
    """Analytics of every chain in the batch (records in stream order; ``previous`` is updated as the
    batch goes, so two snapshots of one expiry in one batch build up against each other)."""
    if not records:
        return []
    times = [_years_to_expiry(r["product"], r["expiry"], _parse_ts(r["ts"])) for r in records]
    quotes = _gather_quotes(records, times)
    iv = pricing.implied_volatility(
        quotes.mid, quotes.flag, quotes.spot, quotes.strike, quotes.t, quotes.r, quotes.q
    )
    greeks = pricing.greeks(quotes.flag, quotes.spot, quotes.strike, quotes.t, quotes.r, iv, quotes.q)
    columns = {
        "iv": _json_column(iv, 6),
        **{k: _json_column(greeks[k], 8) for k in ("delta", "gamma", "vega", "theta")},
    }
    prev_last, prev_oi = _previous_quotes(records, quotes, previous)
    reading = chain.oi_buildup(prev_last, quotes.last, prev_oi, quotes.oi)  # every quote of the batch at once
    labels, oi_changes = reading.labels.tolist(), reading.oi_change.astype(np.int64).tolist()
    strike_list = quotes.strike.tolist()
    computed = []
    for i, record in enumerate(records):
        start, end = quotes.offsets[i], quotes.offsets[i + 1]
        n = (end - start) // 2
        calls, puts = slice(start, start + n), slice(start + n, end)
        strikes = quotes.strike[calls]
        spot = float(record["spot"])
        call_oi, put_oi = quotes.oi[calls], quotes.oi[puts]
        atm = chain.atm_strike(strikes, spot)
        atm_index = int(np.flatnonzero(strikes == atm)[0])
        atm_ivs = np.array([iv[calls][atm_index], iv[puts][atm_index]])
        atm_iv = float(np.nanmean(atm_ivs)) if np.isfinite(atm_ivs).any() else math.nan
        straddle = chain.atm_straddle(strikes, quotes.mid[calls], quotes.mid[puts], spot)
        move = chain.expected_move(spot, straddle).move if math.isfinite(straddle) else math.nan
        levels = chain.support_resistance(strikes, call_oi, put_oi)
        past = history.get(record["product"], [])
        rank = volatility.iv_rank(atm_iv, past) if math.isfinite(atm_iv) else math.nan
        percentile = volatility.iv_percentile(atm_iv, past) if math.isfinite(atm_iv) else math.nan
        key = (record["product"], record["expiry"])
        analytics = {
            "pcr_oi": _number(chain.pcr(put_oi, call_oi)),
            "pcr_volume": _number(chain.pcr(quotes.volume[puts], quotes.volume[calls])),
            "total_call_oi": int(call_oi.sum()),
            "total_put_oi": int(put_oi.sum()),
            "atm_strike": atm,
            "atm_iv": _number(atm_iv),
            "atm_straddle": _number(straddle),
            "expected_move": _number(move),
            "max_pain_strike": chain.max_pain(strikes, call_oi, put_oi),
            "support": _number(levels.support),
            "resistance": _number(levels.resistance),
            "iv_rank": _number(rank),
            "iv_percentile": _number(percentile),
            "t": times[i],
        }
        enriched = {
            **record,
            "type": "enriched_chain",
            **analytics,
            "calls": _quote_documents(record["calls"], columns, calls),
            "puts": _quote_documents(record["puts"], columns, puts),
            "buildup": _buildup_rows(strike_list[calls], labels[start:end], oi_changes[start:end], n),
        }
        previous[key] = enriched
        summary = {
            "product": record["product"],
            "expiry": record["expiry"],
            "tick_id": record["tick_id"],
            "ts": record["ts"],
            "spot": spot,
            **{k: v for k, v in analytics.items() if k != "t"},
        }
        forward = spot * math.exp((float(record["r"]) - float(record["q"])) * times[i])
        points = (times[i], np.concatenate([strikes, strikes]), forward, iv[start:end])
        computed.append(_ChainComputed(enriched, summary, atm_iv, points))
    return computed


def _surface(product: str, chains: Mapping[tuple[str, str], dict[str, Any]]) -> dict[str, Any] | None:
    """The product's volatility surface from the latest enriched chain of each expiry."""
    rows = sorted((expiry, c) for (p, expiry), c in chains.items() if p == product and c.get("t", 0) > 0)
    t: list[float] = []
    k: list[float] = []
    f: list[float] = []
    v: list[float] = []
    for _, enriched in rows:
        forward = float(enriched["spot"]) * math.exp(
            (float(enriched["r"]) - float(enriched["q"])) * enriched["t"]
        )
        for side in ("calls", "puts"):
            for quote in enriched[side]:
                t.append(enriched["t"])
                k.append(float(quote["strike"]))
                f.append(forward)
                v.append(math.nan if quote["iv"] is None else float(quote["iv"]))
    if not t or all(math.isnan(x) for x in v):
        return None
    grid = volatility.volatility_surface(t, k, f, v)
    by_t = {round(c["t"], 12): e for e, c in rows}
    return {
        "product": product,
        "expiries": [by_t.get(round(float(x), 12)) for x in grid.expiries],
        "t": _json_numbers(grid.expiries, 10),
        "moneyness": _json_numbers(grid.moneyness, 6),
        "iv": [_json_numbers(row, 6) for row in grid.iv],
    }


# --- the use case ------------------------------------------------------------------------------------


class Enricher:
    """Enriches batches of parsed records (see the module docstring for the write order)."""

    def __init__(self, *, latest: LatestState, history: History, sink: RecordSink) -> None:
        self._latest = latest
        self._history = history
        self._sink = sink
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="enrich-io")

    def enrich(self, records: Sequence[dict[str, Any]], retry: Retry = no_retry) -> EnrichResult:
        """Enrich ``records`` (parsed, in stream order). ``retry`` wraps each storage step (see
        :mod:`deltastream.services.retry`); each step is retried on its own, so a retry never redoes
        a step that already succeeded."""
        result = EnrichResult(received=len(records))
        started = time.perf_counter()
        products = {r["product"] for r in records}
        state = retry(lambda: self._latest.load(products), "reading the latest state")
        io = time.perf_counter() - started

        compute_started = time.perf_counter()
        fresh = self._fresh(records, state, result)
        writes = LatestWrites()
        documents: dict[str, list[dict[str, Any]]] = {TICKS: [], CHAINS: [], BARS: []}
        enriched: list[dict[str, Any]] = []
        self._underlyings([r for r in fresh if r["type"] == "underlying"], state, writes, documents, enriched)
        self._chains([r for r in fresh if r["type"] == "chain"], state, writes, documents, enriched)
        payload = [(e["product"], encode(e)) for e in enriched]
        result.compute_ms = (time.perf_counter() - compute_started) * 1e3

        io_started = time.perf_counter()

        def store_history() -> None:
            for collection, docs in documents.items():
                if docs:
                    retry(functools.partial(self._history.upsert, collection, docs), f"writing {collection}")
                    result.stored[collection] = len(docs)

        def publish() -> None:
            if payload:
                retry(lambda: self._sink.put(payload), "publishing enriched records")

        # History and the enriched stream are independent: write both at once; the seen marks (last)
        # wait for both, so a failure of either leaves the batch to be redone.
        futures = [self._io.submit(store_history), self._io.submit(publish)]
        for future in futures:
            future.result()
        retry(lambda: self._latest.save(writes), "writing the latest state")  # last: marks them applied
        result.io_ms = (io + time.perf_counter() - io_started) * 1e3
        result.enriched = len(enriched)
        return result

    @staticmethod
    def _fresh(
        records: Sequence[dict[str, Any]], state: LatestSnapshot, result: EnrichResult
    ) -> list[dict[str, Any]]:
        """Drop redeliveries: records at or below the newest tick id already applied (in stores or
        earlier in this batch) for their product, type and expiry."""
        seen = dict(state.seen)
        fresh = []
        for record in records:
            key = seen_key(record["product"], record["type"], record.get("expiry"))
            if record["tick_id"] <= seen.get(key, -1):
                result.redeliveries += 1
                continue
            seen[key] = record["tick_id"]
            fresh.append(record)
        return fresh

    @staticmethod
    def _underlyings(
        records: list[dict[str, Any]],
        state: LatestSnapshot,
        writes: LatestWrites,
        documents: dict[str, list[dict[str, Any]]],
        enriched: list[dict[str, Any]],
    ) -> None:
        by_product: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_product.setdefault(record["product"], []).append(record)
        for product, ticks in by_product.items():
            prices = [float(r["price"]) for r in ticks]
            times = [_parse_ts(r["ts"]) for r in ticks]
            ohlc: list[dict[str, Any]] = [{} for _ in ticks]
            for window in WINDOWS:
                previous = state.bars.get((product, window))
                result = bars.fold(_bar_from_dict(previous) if previous else None, prices, times, window)
                for per_tick, bar_state in zip(ohlc, result.states, strict=True):
                    per_tick[f"{window}m"] = bar_state
                for bar in [*result.finished, result.current]:
                    if bar is None:
                        continue
                    document = {**bar.as_dict(), "product": product, "last_tick_id": ticks[-1]["tick_id"]}
                    documents[BARS].append({"_id": f"{product}:{window}:{document['start']}", **document})
                    writes.bars[(product, window)] = document
            for record, ts, price, bar_states in zip(ticks, times, prices, ohlc, strict=True):
                documents[TICKS].append(
                    {
                        "_id": idempotency_key(record),
                        "product": product,
                        "tick_id": record["tick_id"],
                        "price": price,
                        "ts": record["ts"],
                        "ts_date": ts,
                    }
                )
                enriched.append({**record, "type": "enriched_underlying", "ohlc": bar_states})
            writes.underlyings[product] = enriched[-1]
            writes.seen[seen_key(product, "underlying")] = ticks[-1]["tick_id"]

    @staticmethod
    def _chains(
        records: list[dict[str, Any]],
        state: LatestSnapshot,
        writes: LatestWrites,
        documents: dict[str, list[dict[str, Any]]],
        enriched: list[dict[str, Any]],
    ) -> None:
        if not records:
            return
        latest = dict(state.chains)
        history = {p: list(values) for p, values in state.iv_history.items()}
        nearest = _nearest_expiries(records, latest)
        for computed in _enrich_chains(records, latest, history):
            record = computed.record
            product, expiry = record["product"], record["expiry"]
            documents[CHAINS].append(
                {
                    "_id": idempotency_key({**record, "type": "chain"}),
                    **record,
                    "ts_date": _parse_ts(record["ts"]),
                }
            )
            writes.chains[(product, expiry)] = record
            writes.seen[seen_key(product, "chain", expiry)] = record["tick_id"]
            if expiry == nearest.get(product):
                writes.summaries[product] = computed.summary
                if math.isfinite(computed.atm_iv):
                    point = {
                        "ts": record["ts"],
                        "tick_id": record["tick_id"],
                        "atm_iv": round(computed.atm_iv, 6),
                    }
                    writes.iv_points.setdefault(product, []).append(point)
                    history.setdefault(product, []).append(computed.atm_iv)
            enriched.append(record)
        for product in {r["product"] for r in records}:
            surface = _surface(product, latest)
            if surface is not None:
                writes.surfaces[product] = surface


def _nearest_expiries(
    records: Sequence[dict[str, Any]], latest: Mapping[tuple[str, str], dict[str, Any]]
) -> dict[str, str]:
    """Per product, the nearest expiry among those in the batch and in the cache, not yet past."""
    today = min(_parse_ts(r["ts"]) for r in records).date() - timedelta(days=1)
    nearest: dict[str, str] = {}
    candidates = [(r["product"], r["expiry"]) for r in records] + list(latest)
    for product, expiry in candidates:
        if date.fromisoformat(expiry) >= today and (product not in nearest or expiry < nearest[product]):
            nearest[product] = expiry
    return nearest


def dumps(document: Mapping[str, Any]) -> bytes:
    """Compact JSON for Redis values (orjson; the enrichment produces no NaN)."""
    return orjson.dumps(document, default=str)
