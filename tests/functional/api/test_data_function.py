"""DataFunction end to end: proxy events into the real handler, Redis and mongomock behind it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis

from deltastream.adapters.mongo import MongoHistory

from .conftest import Functions, Market, functions_env, load_function
from .gateway import invoke, proxy_event


def test_health_is_public_and_pings_redis(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/health", user=None))
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "redis": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_products_lists_the_catalogue_with_contract_specs(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/products"))
    assert answer.status == 200
    products = {p["symbol"]: p for p in answer.json()["products"]}
    assert {"NIFTY", "SPY"} <= products.keys()
    assert products["NIFTY"]["lot_size"] == 75
    assert products["NIFTY"]["expiry"]["weekday"] == "Tuesday"
    assert products["SPY"]["expiry"]["daily"] is True


def test_latest_tick_comes_from_redis(functions: Functions, nifty: Market) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/underlying/NIFTY", {"limit": "1"}))
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["source"] == "redis"
    assert body["ticks"] == [{k: nifty.ticks[-1][k] for k in ("product", "tick_id", "price", "ts")}]
    assert answer.headers["Cache-Control"] == "no-store"


def test_ticks_history_is_newest_first_from_mongodb(functions: Functions, nifty: Market) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/underlying/nifty", {"limit": "5"}))
    body = answer.json()
    assert body["source"] == "mongodb"
    assert [t["tick_id"] for t in body["ticks"]] == [18, 17, 16, 15, 14]


def test_ticks_in_a_time_range(functions: Functions, nifty: Market) -> None:
    first = datetime.fromisoformat(nifty.ticks[0]["ts"])
    query = {"from": first.isoformat(), "to": (first + timedelta(seconds=20)).isoformat()}
    body = invoke(functions.data, proxy_event("/api/data/underlying/NIFTY", query)).json()
    assert [t["tick_id"] for t in body["ticks"]] == [3, 2, 1]


def test_redis_miss_falls_back_to_mongodb(
    functions: Functions, nifty: Market, redis_client: redis.Redis
) -> None:
    redis_client.flushall()
    tick = invoke(functions.data, proxy_event("/api/data/underlying/NIFTY", {"limit": "1"})).json()
    assert (tick["source"], tick["ticks"][0]["tick_id"]) == ("mongodb", 18)
    expiries = invoke(functions.data, proxy_event("/api/data/expiries/NIFTY")).json()
    assert expiries == {"product": "NIFTY", "source": "mongodb", "expiries": nifty.expiries}
    chain = invoke(functions.data, proxy_event("/api/data/chain/NIFTY")).json()
    assert chain["source"] == "mongodb"
    assert chain["chains"][0]["tick_id"] == 120


def test_chain_defaults_to_the_latest_of_the_nearest_expiry(functions: Functions, nifty: Market) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/chain/NIFTY"))
    assert answer.status == 200, answer.text
    body = answer.json()
    assert (body["source"], body["expiry"]) == ("redis", nifty.expiries[0])
    (chain,) = body["chains"]
    assert chain["tick_id"] == 120
    assert len(chain["calls"]) == len(chain["strikes"])
    assert chain["calls"][0]["iv"] is not None
    assert {"pcr_oi", "max_pain_strike", "buildup"} <= chain.keys()


def test_chain_history_of_an_expiry_is_newest_first(functions: Functions, nifty: Market) -> None:
    query = {"expiry": nifty.expiries[1], "limit": "3"}
    body = invoke(functions.data, proxy_event("/api/data/chain/NIFTY", query)).json()
    assert (body["source"], body["expiry"]) == ("mongodb", nifty.expiries[1])
    assert [c["tick_id"] for c in body["chains"]] == [120, 110, 100]


def test_expiries_come_from_the_redis_zset(functions: Functions, nifty: Market) -> None:
    body = invoke(functions.data, proxy_event("/api/data/expiries/NIFTY")).json()
    assert body == {"product": "NIFTY", "source": "redis", "expiries": nifty.expiries}


def test_no_data_yet_is_a_404_saying_so(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/chain/NIFTY", {"expiry": "2026-11-24"}))
    assert answer.status == 404
    assert answer.json() == {
        "error": {"code": "not_found", "message": "no chain yet for NIFTY 2026-11-24: is the feed running?"}
    }


def test_unknown_product_is_a_404_naming_the_known_ones(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/api/data/expiries/XYZ"))
    assert answer.status == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"].startswith("unknown product 'XYZ'; known: NIFTY, BANKNIFTY")


def test_invalid_parameters_are_a_422_naming_each_field(functions: Functions) -> None:
    query = {"limit": "0", "from": "yesterday"}
    answer = invoke(functions.data, proxy_event("/api/data/underlying/NIFTY", query))
    assert answer.status == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert [(f["field"], f["in"]) for f in error["details"]["fields"]] == [
        ("limit", "query"),
        ("from", "query"),
    ]


def test_rate_limit_exhausted_is_a_429_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, mongo: MongoHistory, redis_client: redis.Redis
) -> None:
    functions_env(monkeypatch, redis_url, mongo, RATE_LIMIT_PER_MINUTE="3")
    data = load_function("data")
    statuses = [invoke(data, proxy_event("/api/data/products", user="greedy")).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    answer = invoke(data, proxy_event("/api/data/products", user="greedy"))
    assert answer.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answer.headers["Retry-After"]) <= 20  # one token back takes 60 s / 3
    assert invoke(data, proxy_event("/api/data/products", user="someone-else")).status == 200
    assert invoke(data, proxy_event("/health", user=None)).status == 200  # public: exempt


def test_redis_and_mongodb_down_is_a_503(
    functions: Functions, nifty: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(self: object, *args: object, **kwargs: object) -> list[dict[str, object]]:
        raise ConnectionError("MongoDB is away")

    monkeypatch.setattr(MongoHistory, "find", unreachable)
    functions.data.redis.connection_pool.reset()
    functions.data.redis.connection_pool.connection_kwargs["port"] = 1  # nothing listens there
    answer = invoke(functions.data, proxy_event("/api/data/underlying/NIFTY", {"limit": "1"}))
    assert answer.status == 503
    assert answer.json()["error"]["code"] == "unavailable"
    assert invoke(functions.data, proxy_event("/health", user=None)).json()["status"] == "degraded"
