"""Redis-first reads with the MongoDB fallback, on in-memory stores."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from deltastream.adapters import redis_keys as keys
from deltastream.services import market_reads as reads

from .fakes import FakeRedis, MemoryHistory

TODAY = date(2026, 11, 23)


def tick(tick_id: int, second: int = 0) -> dict[str, Any]:
    ts = datetime(2026, 11, 23, 4, 0, second, tzinfo=UTC)
    return {"_id": f"NIFTY:underlying:-:{tick_id}", "product": "NIFTY", "tick_id": tick_id,
            "price": 25_000.0 + tick_id, "ts": ts.isoformat(), "ts_date": ts}  # fmt: skip


def chain(expiry: str, tick_id: int, **fields: Any) -> dict[str, Any]:
    return {"_id": f"NIFTY:chain:{expiry}:{tick_id}", "product": "NIFTY", "expiry": expiry,
            "tick_id": tick_id, "ts": "2026-11-23T04:00:00+00:00", "pcr_oi": 1.0 + tick_id / 100,
            "pcr_volume": 0.9, "ts_date": datetime(2026, 11, 23, tzinfo=UTC), **fields}  # fmt: skip


def bar(start_minute: int, close: float) -> dict[str, Any]:
    start = f"2026-11-23T04:{start_minute:02d}:00+00:00"
    return {"_id": f"NIFTY:1:{start}", "window": 1, "start": start, "open": 1.0, "high": 2.0, "low": 0.5,
            "close": close, "ticks": 6, "first_ts": start, "last_ts": start, "product": "NIFTY",
            "last_tick_id": 1}  # fmt: skip


@pytest.fixture
def latest() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def history() -> MemoryHistory:
    return MemoryHistory()


def test_latest_tick_comes_from_redis_without_touching_mongodb(
    latest: FakeRedis, history: MemoryHistory
) -> None:
    latest.set_json(keys.latest_underlying("NIFTY"), {**tick(7), "ts_date": None, "ohlc": {}})
    found = reads.ticks(latest, history, "NIFTY", limit=1)
    assert (found.source, found.value[0]["tick_id"]) == ("redis", 7)
    assert set(found.value[0]) == {"product", "tick_id", "price", "ts"}
    assert history.finds == 0


def test_ticks_fall_back_to_mongodb_when_redis_misses_or_is_down(
    latest: FakeRedis, history: MemoryHistory
) -> None:
    history.upsert(reads.TICKS, [tick(i, i) for i in range(1, 6)])
    assert reads.ticks(latest, history, "NIFTY", limit=1).value[0]["tick_id"] == 5
    latest.down = True
    found = reads.ticks(latest, history, "NIFTY", limit=3)
    assert found.source == "mongodb"
    assert [t["tick_id"] for t in found.value] == [5, 4, 3]
    assert "_id" not in found.value[0]
    assert "ts_date" not in found.value[0]


def test_a_time_range_is_inclusive_and_may_be_empty(latest: FakeRedis, history: MemoryHistory) -> None:
    history.upsert(reads.TICKS, [tick(i, i) for i in range(1, 6)])
    start, end = datetime(2026, 11, 23, 4, 0, 2, tzinfo=UTC), datetime(2026, 11, 23, 4, 0, 4, tzinfo=UTC)
    ranged = reads.ticks(latest, history, "NIFTY", limit=100, start=start, end=end)
    assert [t["tick_id"] for t in ranged.value] == [4, 3, 2]
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert reads.ticks(latest, history, "NIFTY", limit=100, start=later).value == []


def test_no_ticks_at_all_is_no_data(latest: FakeRedis, history: MemoryHistory) -> None:
    with pytest.raises(reads.NoData, match="no ticks yet for NIFTY: is the feed running"):
        reads.ticks(latest, history, "NIFTY", limit=1)


def test_both_stores_down_is_storage_unavailable(latest: FakeRedis, history: MemoryHistory) -> None:
    latest.down = history.down = True
    with pytest.raises(reads.StorageUnavailable):
        reads.ticks(latest, history, "NIFTY", limit=1)


@pytest.mark.parametrize(
    ("expiries", "nearest"),
    [
        (["2026-11-24", "2026-12-01"], "2026-11-24"),
        (["2026-11-23", "2026-11-24"], "2026-11-23"),  # expiring today is still the nearest
        (["2026-11-17", "2026-11-21"], "2026-11-21"),  # all past: the last one
    ],
)
def test_nearest_expiry(expiries: list[str], nearest: str) -> None:
    assert reads.nearest_expiry(expiries, TODAY) == nearest


def test_expiries_from_the_zset_else_from_recent_chains(latest: FakeRedis, history: MemoryHistory) -> None:
    latest.zsets[keys.expiries("NIFTY")] = {b"2026-12-01": 2.0, b"2026-11-24": 1.0}
    assert reads.expiries(latest, history, "NIFTY", today=TODAY).value == ["2026-11-24", "2026-12-01"]
    latest.zsets.clear()
    history.upsert(reads.CHAINS, [chain("2026-11-10", 1), chain("2026-11-24", 2), chain("2026-12-01", 3)])
    found = reads.expiries(latest, history, "NIFTY", today=TODAY)
    assert (found.source, found.value) == ("mongodb", ["2026-11-24", "2026-12-01"])  # long past: dropped


def test_chain_history_newest_first_and_missing_expiry_says_so(
    latest: FakeRedis, history: MemoryHistory
) -> None:
    history.upsert(reads.CHAINS, [chain("2026-11-24", i) for i in (10, 20, 30)])
    found = reads.chains(latest, history, "NIFTY", today=TODAY, limit=2)
    assert (found.expiry, [c["tick_id"] for c in found.records]) == ("2026-11-24", [30, 20])
    with pytest.raises(reads.NoData, match=r"no chain yet for NIFTY 2026-12-01: is the feed running\?"):
        reads.chains(latest, history, "NIFTY", today=TODAY, expiry="2026-12-01")


def test_summary_of_another_expiry_is_its_latest_chain(latest: FakeRedis, history: MemoryHistory) -> None:
    latest.set_json(keys.latest_summary("NIFTY"), {"expiry": "2026-11-24", "pcr_oi": 0.5})
    latest.set_json(keys.latest_chain("NIFTY", "2026-12-01"), chain("2026-12-01", 9, ts_date=None))
    assert reads.summary(latest, history, "NIFTY", today=TODAY).value["pcr_oi"] == 0.5
    other = reads.summary(latest, history, "NIFTY", today=TODAY, expiry="2026-12-01")
    assert (other.source, other.value["tick_id"]) == ("redis", 9)


def test_pcr_series_is_oldest_first(history: MemoryHistory) -> None:
    history.upsert(reads.CHAINS, [chain("2026-11-24", i) for i in (10, 20, 30)])
    series = reads.pcr_series(history, "NIFTY", "2026-11-24", limit=2)
    assert series == [
        {"ts": "2026-11-23T04:00:00+00:00", "tick_id": 20, "pcr_oi": 1.2, "pcr_volume": 0.9},
        {"ts": "2026-11-23T04:00:00+00:00", "tick_id": 30, "pcr_oi": 1.3, "pcr_volume": 0.9},
    ]


def test_bars_are_finished_ones_then_the_open_one_from_redis(
    latest: FakeRedis, history: MemoryHistory
) -> None:
    history.upsert(reads.BARS, [bar(m, close=m) for m in range(5)])  # minute 4's copy is stale
    latest.set_json(keys.bars("NIFTY", 1), {**bar(4, close=99.0), "_id": None})
    found = reads.bars(latest, history, "NIFTY", 1, limit=3)
    assert found.source == "redis+mongodb"
    assert [(b["start"][-11:-9], b["close"]) for b in found.value] == [("02", 2), ("03", 3), ("04", 99.0)]


def test_no_bars_is_no_data(latest: FakeRedis, history: MemoryHistory) -> None:
    with pytest.raises(reads.NoData, match="no 5-minute bars yet for NIFTY"):
        reads.bars(latest, history, "NIFTY", 5, limit=10)


def test_surface_is_redis_only(latest: FakeRedis) -> None:
    with pytest.raises(reads.NoData, match="no volatility surface yet for NIFTY"):
        reads.surface(latest, "NIFTY")
    latest.down = True
    with pytest.raises(reads.StorageUnavailable):
        reads.surface(latest, "NIFTY")


def test_iv_history_length_is_none_when_redis_is_down(latest: FakeRedis) -> None:
    latest.zsets[keys.iv_history("NIFTY")] = {b"a": 1.0, b"b": 2.0}
    assert reads.iv_history_length(latest, "NIFTY") == 2
    latest.down = True
    assert reads.iv_history_length(latest, "NIFTY") is None
    assert reads.ping(latest) is False


def test_a_history_bug_is_not_disguised_as_an_outage(latest: FakeRedis) -> None:
    class Broken(MemoryHistory):
        def find(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            raise KeyError("a bug")

    with pytest.raises(KeyError):
        reads.ticks(latest, Broken(), "NIFTY", limit=5)


def test_lazy_history_connects_on_first_use_only() -> None:
    built: list[MemoryHistory] = []

    def connect() -> MemoryHistory:
        built.append(MemoryHistory())
        return built[-1]

    lazy = reads.LazyHistory(connect)
    assert built == []
    lazy.find(reads.TICKS, {})
    lazy.upsert(reads.TICKS, [tick(1)])
    assert len(built) == 1
    assert built[0].finds == 1
