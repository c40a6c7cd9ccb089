"""The enrichment service on in-memory ports: analytics equal the domain's, replays change nothing,
and the seen marks are written only after history and the enriched stream."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from deltastream.domain import chain, market, pricing
from deltastream.domain.expiries import time_to_expiry, upcoming_expiries
from deltastream.domain.products import get_product
from deltastream.records import parse_record
from deltastream.services.enrich import Enricher, LatestSnapshot, LatestWrites, seen_key

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 09:30 IST on a Monday


class MemoryLatest:
    """LatestState in a dict, applying writes the way the Redis adapter does."""

    def __init__(self) -> None:
        self.snapshot = LatestSnapshot()
        self.saves = 0

    def load(self, products: Iterable[str]) -> LatestSnapshot:
        return copy.deepcopy(self.snapshot)

    def save(self, writes: LatestWrites) -> None:
        self.saves += 1
        s = self.snapshot
        s.chains.update(copy.deepcopy(writes.chains))
        s.bars.update(copy.deepcopy(writes.bars))
        s.seen.update(writes.seen)
        for product, points in writes.iv_points.items():
            s.iv_history.setdefault(product, []).extend(p["atm_iv"] for p in points)
        self.writes = writes


class MemoryHistory:
    def __init__(self) -> None:
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.calls = 0

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> int:
        self.calls += 1
        stored = self.collections.setdefault(collection, {})
        new = sum(1 for d in documents if d["_id"] not in stored)
        for d in documents:
            stored[d["_id"]] = copy.deepcopy(dict(d))
        return new

    def find(
        self, collection: str, filter: Mapping[str, Any], *, sort: Any = (), limit: int = 0
    ) -> list[dict[str, Any]]:
        return list(self.collections.get(collection, {}).values())


class MemorySink:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, bytes]] = []
        self.fail = fail

    def put(self, records: Sequence[tuple[str, bytes]]) -> None:
        if self.fail:
            raise ConnectionError("stream unavailable")
        self.records.extend(records)


def chain_records(product: str = "NIFTY", snapshots: int = 2, *, seed: int = 1) -> list[dict[str, Any]]:
    """Chain records as the feed writes them (evolving OI), for the nearest expiry."""
    spec = get_product(product)
    expiry = upcoming_expiries(spec, NOW, 1)[0]
    rng = np.random.default_rng(seed)
    state = None
    records = []
    spot = spec.base_price
    for i in range(snapshots):
        now = NOW + timedelta(seconds=5 * i)
        spot *= 1.0 + 0.001 * (i % 3 - 1)
        snapshot, state = market.evolve_chain(state, spec, spot, expiry, now, rng)
        records.append(
            {
                "v": 1,
                "type": "chain",
                "tick_id": 10 + 5 * i,
                "ts": now.isoformat(),
                **snapshot.as_record_fields(),
            }
        )
    return [parse_record(json.dumps(r).encode()) for r in records]


def underlying(product: str, tick_id: int, price: float, at: datetime) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "underlying",
        "product": product,
        "tick_id": tick_id,
        "price": price,
        "ts": at.isoformat(),
    }


def enricher() -> tuple[Enricher, MemoryLatest, MemoryHistory, MemorySink]:
    latest, history, sink = MemoryLatest(), MemoryHistory(), MemorySink()
    return Enricher(latest=latest, history=history, sink=sink), latest, history, sink


def test_enriched_chain_values_equal_what_the_domain_computes_for_the_same_inputs() -> None:
    service, _latest, history, sink = enricher()
    (record,) = chain_records(snapshots=1)
    service.enrich([record])
    (out,) = [json.loads(data) for _, data in sink.records]
    strikes = np.array(record["strikes"])
    call_oi = np.array([q["oi"] for q in record["calls"]], dtype=float)
    put_oi = np.array([q["oi"] for q in record["puts"]], dtype=float)
    assert out["type"] == "enriched_chain"
    assert out["max_pain_strike"] == chain.max_pain(strikes, call_oi, put_oi)
    assert out["pcr_oi"] == pytest.approx(chain.pcr(put_oi, call_oi))
    assert out["atm_strike"] == chain.atm_strike(strikes, record["spot"])
    assert out["total_call_oi"] == int(call_oi.sum())
    # IV of one quote, recomputed from its mid with the domain's solver
    product = get_product("NIFTY")
    t = time_to_expiry(product, date.fromisoformat(record["expiry"]), NOW)
    i = len(strikes) // 2
    quote = record["calls"][i]
    mid = (quote["bid"] + quote["ask"]) / 2
    expected_iv = float(
        pricing.implied_volatility(mid, "c", record["spot"], quote["strike"], t, record["r"], record["q"])
    )
    assert out["calls"][i]["iv"] == pytest.approx(expected_iv, abs=1e-6)
    expected_delta = float(
        pricing.greeks("c", record["spot"], quote["strike"], t, record["r"], expected_iv, record["q"])[
            "delta"
        ]
    )
    assert out["calls"][i]["delta"] == pytest.approx(expected_delta, abs=1e-7)
    # the chain document is stored under the record's idempotency key
    assert f"NIFTY:chain:{record['expiry']}:{record['tick_id']}" in history.collections["chains"]


def test_build_up_compares_each_snapshot_with_the_previous_one_of_its_expiry() -> None:
    service, _latest, _history, sink = enricher()
    first, second = chain_records(snapshots=2)
    service.enrich([first, second])
    outputs = [json.loads(data) for _, data in sink.records]
    assert {row["call"] for row in outputs[0]["buildup"]} == {"NEUTRAL"}  # nothing to compare with
    rows = outputs[1]["buildup"]
    assert [r["call_oi_change"] for r in rows] == [
        q2["oi"] - q1["oi"] for q1, q2 in zip(first["calls"], second["calls"], strict=True)
    ]
    assert {r["put"] for r in rows} - {"NEUTRAL"}  # OI moved: some strikes are not neutral


def test_the_same_batch_delivered_twice_leaves_every_store_as_one_delivery_did() -> None:
    service, latest, history, sink = enricher()
    records = [*chain_records(snapshots=2), underlying("NIFTY", 11, 25010.0, NOW + timedelta(seconds=1))]
    service.enrich(records)
    stores = copy.deepcopy(history.collections)
    state = copy.deepcopy(latest.snapshot)
    published = len(sink.records)
    result = service.enrich(records)
    assert result.redeliveries == len(records)
    assert result.enriched == 0
    assert history.collections == stores
    assert latest.snapshot == state
    assert len(sink.records) == published


def test_a_failed_publish_leaves_the_records_unmarked_so_the_retry_does_them_again() -> None:
    latest, history = MemoryLatest(), MemoryHistory()
    records = chain_records(snapshots=1)
    with pytest.raises(ConnectionError):
        Enricher(latest=latest, history=history, sink=MemorySink(fail=True)).enrich(records)
    assert latest.saves == 0  # not marked as applied
    sink = MemorySink()
    result = Enricher(latest=latest, history=history, sink=sink).enrich(records)
    assert result.enriched == 1
    assert len(sink.records) == 1


def test_bars_roll_over_at_the_window_boundary_and_late_ticks_do_not_reopen_them() -> None:
    service, _latest, history, sink = enricher()
    start = datetime(2026, 11, 23, 4, 0, 50, tzinfo=UTC)
    ticks = [
        underlying("SPY", i, p, start + timedelta(seconds=5 * i))
        for i, p in enumerate([660.0, 661.5, 659.0, 662.0])
    ]
    service.enrich(ticks)  # 04:00:50, :55, 04:01:00, :05 → the 1-minute bar rolls at 04:01
    bars = history.collections["bars"]
    first = bars["SPY:1:2026-11-23T04:00:00+00:00"]
    assert (first["open"], first["high"], first["low"], first["close"]) == (660.0, 661.5, 660.0, 661.5)
    second = bars["SPY:1:2026-11-23T04:01:00+00:00"]
    assert (second["open"], second["close"], second["ticks"]) == (659.0, 662.0, 2)
    fifteen = bars["SPY:15:2026-11-23T04:00:00+00:00"]
    assert (fifteen["high"], fifteen["low"], fifteen["ticks"]) == (662.0, 659.0, 4)
    outputs = [json.loads(d) for _, d in sink.records]
    assert outputs[-1]["ohlc"]["1m"]["close"] == 662.0
    assert outputs[-1]["type"] == "enriched_underlying"


def test_iv_history_grows_with_the_nearest_expiry_and_feeds_iv_rank() -> None:
    service, latest, _history, sink = enricher()
    records = chain_records(snapshots=3)
    for record in records:
        service.enrich([record])
    assert len(latest.snapshot.iv_history["NIFTY"]) == 3
    last = json.loads(sink.records[-1][1])
    assert 0.0 <= last["iv_rank"] <= 100.0
    assert last["iv_percentile"] is not None
    assert latest.writes.surfaces["NIFTY"]["iv"]  # a surface row for the expiry


def test_seen_marks_are_per_product_type_and_expiry() -> None:
    service, latest, _history, _sink = enricher()
    (record,) = chain_records(snapshots=1)
    service.enrich([record, underlying("NIFTY", record["tick_id"], 25_000.0, NOW)])
    assert latest.snapshot.seen[seen_key("NIFTY", "chain", record["expiry"])] == record["tick_id"]
    assert latest.snapshot.seen[seen_key("NIFTY", "underlying")] == record["tick_id"]


def test_build_up_aligns_by_strike_when_the_ladder_has_moved() -> None:
    service, _, _, sink = enricher()
    first, second = chain_records(snapshots=2)
    # the second snapshot's ladder moved up one strike: its lowest strike is gone, a new one on top
    step = second["strikes"][1] - second["strikes"][0]
    shifted = copy.deepcopy(second)
    shifted["strikes"] = [k + step for k in second["strikes"]]
    for side in ("calls", "puts"):
        for quote in shifted[side]:
            quote["strike"] += step
    service.enrich([first, shifted])
    rows = json.loads(sink.records[1][1])["buildup"]
    previous_oi = {q["strike"]: q["oi"] for q in first["calls"]}
    for row, quote in zip(rows, shifted["calls"], strict=True):
        if quote["strike"] in previous_oi:
            assert row["call_oi_change"] == quote["oi"] - previous_oi[quote["strike"]]
        else:  # newly listed: nothing to compare with
            assert (row["call"], row["call_oi_change"]) == ("NEUTRAL", 0)
    assert rows[-1]["strike"] not in previous_oi
