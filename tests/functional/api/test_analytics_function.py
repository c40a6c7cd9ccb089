"""AnalyticsFunction end to end: proxy events into the real handler, Redis and mongomock behind it."""

from __future__ import annotations

import redis

from deltastream.domain import chain as chain_math

from .conftest import Functions, Market
from .gateway import invoke, proxy_event


def test_pcr_is_the_latest_summary_from_redis(functions: Functions, nifty: Market) -> None:
    answer = invoke(functions.analytics, proxy_event("/api/analytics/pcr/NIFTY"))
    assert answer.status == 200, answer.text
    body = answer.json()
    assert (body["source"], body["expiry"], body["tick_id"]) == ("redis", nifty.expiries[0], 120)
    assert body["pcr_oi"] > 0
    assert body["history"] is None
    assert answer.headers["Cache-Control"] == "no-store"


def test_pcr_history_is_the_series_oldest_first(functions: Functions, nifty: Market) -> None:
    query = {"history": "true", "expiry": nifty.expiries[1]}
    body = invoke(functions.analytics, proxy_event("/api/analytics/pcr/NIFTY", query)).json()
    assert body["expiry"] == nifty.expiries[1]
    assert [p["tick_id"] for p in body["history"]] == [100, 110, 120]
    assert body["history"][-1]["pcr_oi"] == body["pcr_oi"]


def test_max_pain_with_its_curve(functions: Functions, nifty: Market) -> None:
    query = {"curve": "true"}
    body = invoke(functions.analytics, proxy_event("/api/analytics/max-pain/NIFTY", query)).json()
    latest = next(c for c in reversed(nifty.chains) if c["expiry"] == nifty.expiries[0])
    call_oi = [q["oi"] for q in latest["calls"]]
    put_oi = [q["oi"] for q in latest["puts"]]
    assert body["max_pain_strike"] == chain_math.max_pain(latest["strikes"], call_oi, put_oi)
    pains = {p["strike"]: p["pain"] for p in body["curve"]}
    assert min(pains, key=lambda k: pains[k]) == body["max_pain_strike"]


def test_volatility_surface_from_redis(functions: Functions, nifty: Market) -> None:
    body = invoke(functions.analytics, proxy_event("/api/analytics/volatility-surface/NIFTY")).json()
    assert body["expiries"] == nifty.expiries
    assert len(body["iv"]) == 2
    assert len(body["iv"][0]) == len(body["moneyness"])


def test_oi_buildup_rows_of_the_latest_chain(functions: Functions, nifty: Market) -> None:
    body = invoke(functions.analytics, proxy_event("/api/analytics/oi-buildup/NIFTY")).json()
    latest = next(c for c in reversed(nifty.chains) if c["expiry"] == nifty.expiries[0])
    assert [r["strike"] for r in body["rows"]] == latest["strikes"]
    assert {r["call"] for r in body["rows"]} <= {
        "LONG_BUILDUP", "SHORT_BUILDUP", "SHORT_COVERING", "LONG_UNWINDING", "NEUTRAL"
    }  # fmt: skip


def test_ohlc_is_finished_bars_then_the_open_one(functions: Functions, nifty: Market) -> None:
    body = invoke(functions.analytics, proxy_event("/api/analytics/ohlc/NIFTY", {"window": "1"})).json()
    assert body["source"] == "redis+mongodb"
    starts = [b["start"] for b in body["bars"]]
    assert starts == sorted(starts)
    assert len(starts) == 3
    assert sum(b["ticks"] for b in body["bars"]) == 18
    assert body["bars"][-1]["close"] == nifty.ticks[-1]["price"]


def test_iv_rank_with_its_history_length(functions: Functions, nifty: Market) -> None:
    body = invoke(functions.analytics, proxy_event("/api/analytics/iv-rank/NIFTY")).json()
    assert body["source"] == "redis"
    assert body["history_length"] == 3
    assert body["atm_iv"] > 0


def test_redis_miss_falls_back_to_mongodb(
    functions: Functions, nifty: Market, redis_client: redis.Redis
) -> None:
    redis_client.flushall()
    for path in ("pcr", "max-pain", "oi-buildup", "iv-rank"):
        answer = invoke(functions.analytics, proxy_event(f"/api/analytics/{path}/NIFTY"))
        assert (answer.status, answer.json()["source"]) == (200, "mongodb"), path
    ohlc = invoke(functions.analytics, proxy_event("/api/analytics/ohlc/NIFTY", {"window": "5"})).json()
    assert ohlc["source"] == "mongodb"
    assert ohlc["bars"]
    surface = invoke(functions.analytics, proxy_event("/api/analytics/volatility-surface/NIFTY"))
    assert surface.status == 404  # derived state: Redis only


def test_bad_window_is_a_422_naming_it(functions: Functions) -> None:
    answer = invoke(functions.analytics, proxy_event("/api/analytics/ohlc/NIFTY", {"window": "2"}))
    assert answer.status == 422
    assert answer.json()["error"]["details"]["fields"][0]["field"] == "window"


def test_no_surface_yet_is_a_404(functions: Functions) -> None:
    answer = invoke(functions.analytics, proxy_event("/api/analytics/volatility-surface/SPY"))
    assert answer.status == 404
    assert "no volatility surface yet for SPY" in answer.json()["error"]["message"]
