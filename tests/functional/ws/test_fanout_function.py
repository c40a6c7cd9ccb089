"""FanoutFunction's real handler and both posters against a ``@connections`` double, on a real Redis:
rooms get their events, a 410 removes exactly that connection, a slow client delays nobody, and a
thousand connections are served in one invocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import ModuleType

import orjson
import pytest
import redis

from deltastream.adapters import redis_keys as keys
from deltastream.ws.connections import AsyncPoster, Poster, ThreadPoster, management_client
from deltastream.ws.fanout import Fanout
from deltastream.ws.protocol import decode_event
from deltastream.ws.registry import ConnectionRegistry
from tests.functional.auth.conftest import import_handler
from tests.functional.ws.conftest import LambdaContext, kinesis_event
from tests.functional.ws.connections_double import ConnectionsDouble
from tests.unit.ws.enriched import enriched_records

POSTERS = ("async", "threads")


def make_poster(kind: str, url: str, timeout_s: float = 2.0) -> Poster:
    if kind == "threads":
        return ThreadPoster(lambda: management_client(url, timeout_s=timeout_s))
    return AsyncPoster(url, timeout_s=timeout_s)


@pytest.fixture(params=POSTERS)
def poster_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FANOUT_POSTER", request.param)
    kind: str = request.param
    return kind


@pytest.fixture
def fanout_app(ws_env: None, poster_kind: str) -> Iterator[ModuleType]:
    app = import_handler("fanout")
    yield app
    app.fanout._poster.close()


def connect(registry: ConnectionRegistry, connection_id: str, *rooms: str) -> None:
    registry.register(connection_id, user_id="u1", email="", connected_at=0.0, rooms=["general", *rooms])


def test_each_room_gets_its_events_and_invalid_records_are_batch_item_failures(
    fanout_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    registry = ConnectionRegistry(redis_client)
    connect(registry, "lobby")
    connect(registry, "prices", "product:NIFTY")
    connect(registry, "chains", "chain:NIFTY")
    records = [orjson.dumps(r) for r in enriched_records()]
    event = kinesis_event([*records[:2], b"garbage", *records[2:]])
    response = fanout_app.handler(event, LambdaContext())
    assert response == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][2]["kinesis"]["sequenceNumber"]}]
    }
    got = {cid: sorted({decode_event(m)[0] for m in msgs}) for cid, msgs in connections.received.items()}
    assert got == {
        "lobby": ["chain_summary", "underlying_update"],
        "prices": ["chain_summary", "underlying_update"],
        "chains": ["chain_summary", "chain_update", "underlying_update"],
    }
    ticks = [
        decode_event(m)[1]["tick_id"] for m in connections.received["prices"] if b"underlying_update" in m
    ]
    assert ticks == [100, 101, 102]  # every update, in order


def test_a_gone_connection_is_removed_and_the_others_still_served(
    fanout_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    registry = ConnectionRegistry(redis_client)
    for cid in ("a", "b", "c"):
        connect(registry, cid, "product:NIFTY")
    connections.gone.add("b")
    fanout_app.handler(kinesis_event([orjson.dumps(enriched_records()[0])]), LambdaContext())
    assert set(connections.received) == {"a", "c"}
    assert registry.members(["general", "product:NIFTY"]) == {
        "general": {"a", "c"},
        "product:NIFTY": {"a", "c"},
    }
    assert not redis_client.exists(keys.ws_connection("b"))
    assert registry.get("a") is not None
    assert registry.get("c") is not None


@pytest.mark.parametrize("kind", POSTERS)
def test_a_slow_client_does_not_delay_the_others(
    kind: str, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    registry = ConnectionRegistry(redis_client)
    for i in range(200):
        connect(registry, f"c{i}")
    connections.slow["c7"] = 5.0
    poster = make_poster(kind, connections.url, timeout_s=0.5)
    try:
        started = time.perf_counter()
        result = Fanout(registry=registry, poster=poster).publish(enriched_records()[:1])
        elapsed = time.perf_counter() - started
    finally:
        poster.close()  # type: ignore[attr-defined]
    assert result.report.sent == 199
    assert result.report.error_count == 1
    assert elapsed < 1.5  # bounded by the per-post timeout, not by the slow client's 5 s
    assert registry.get("c7") is not None  # a timeout is not a 410: the connection is kept


@pytest.mark.parametrize("kind", POSTERS)
def test_a_thousand_connections_are_posted_to_in_one_invocation(
    kind: str, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    registry = ConnectionRegistry(redis_client)
    for i in range(1_000):
        connect(registry, f"c{i:04d}")
    poster = make_poster(kind, connections.url)
    try:
        fanout = Fanout(registry=registry, poster=poster)
        result = fanout.publish(enriched_records()[:1])
    finally:
        poster.close()  # type: ignore[attr-defined]
    assert result.report.sent == 1_000
    assert len(connections.received) == 1_000
    print(f"\n{kind}: 1,000 posts in {result.latency_ms:.0f} ms ({1e6 / result.latency_ms:,.0f} posts/s)")
    assert result.latency_ms < 5_000


def test_the_async_poster_signs_each_request_with_sigv4(
    redis_client: redis.Redis, connections: ConnectionsDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    poster = AsyncPoster(connections.url)
    try:
        report = poster.post_many([("c1", b"{}"), ("c2", b"{}")])
    finally:
        poster.close()
    assert report.sent == 2
    assert connections.signed == 2
