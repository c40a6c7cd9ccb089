"""Live updates as a trader's dashboard gets them: the local WebSocket gateway on template.yaml, the
REQUEST authorizer on $connect, the ws function, and the fan-out of records that went through the
whole pipeline (put on the ticks stream here, enriched, published, pushed)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import boto3
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from .conftest import Api, _market_records

TICKS = "deltastream-ticks-dev"


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return str(api.register("watcher@example.com")["token"])


@pytest.fixture(scope="module")
def ws_url(api: Api) -> str:
    gateway = api.cloud.websocket
    assert gateway is not None
    return f"ws://127.0.0.1:{gateway.port}/dev"


@pytest.fixture(scope="module")
def producer(api: Api) -> Any:
    kinesis = boto3.client(
        "kinesis",
        endpoint_url=api.cloud.endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    first_tick = [1000]

    def put(product: str, ticks: int) -> list[dict[str, Any]]:
        records = _market_records(product, ticks, first_tick=first_tick[0])
        first_tick[0] += ticks
        kinesis.put_records(
            StreamName=TICKS,
            Records=[{"Data": json.dumps(r).encode(), "PartitionKey": product} for r in records],
        )
        return records

    return put


async def _events(socket: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            async for message in socket:
                received.append(json.loads(message))  # noqa: PERF401 - keep what arrived before the timeout
    except TimeoutError:
        pass
    return received


async def _send(socket: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await socket.send(json.dumps(message))
    async with asyncio.timeout(10):
        while True:
            event = json.loads(await socket.recv())
            if event.get("event") != "connected":
                return dict(event)


def test_connections_without_a_valid_token_are_refused_before_the_upgrade(ws_url: str) -> None:
    async def attempt(url: str) -> int:
        try:
            async with connect(url):
                return 101
        except websockets.exceptions.InvalidStatus as error:
            return error.response.status_code

    assert asyncio.run(attempt(ws_url)) == 401
    assert asyncio.run(attempt(f"{ws_url}?token=not.a.jwt")) in (401, 403)


def test_subscribe_gets_a_snapshot_then_only_the_updates_of_its_rooms(
    ws_url: str, token: str, producer: Any
) -> None:
    producer("NIFTY", 2)  # something cached to snapshot

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(f"{ws_url}?token={token}") as socket:
            await asyncio.sleep(2)  # let the first records be enriched
            subscribed = await _send(socket, {"action": "subscribe", "type": "chain", "symbol": "NIFTY"})
            producer("SPY", 2)
            producer("NIFTY", 2)
            updates = await _events(socket, 8)
            unsubscribed = await _send(socket, {"action": "unsubscribe", "type": "chain", "symbol": "NIFTY"})
            assert unsubscribed["event"] == "unsubscribed"
            producer("NIFTY", 2)
            after = await _events(socket, 5)
            return subscribed, updates, after

    subscribed, updates, after = asyncio.run(scenario())
    assert subscribed["event"] == "subscribed"
    assert subscribed["data"]["snapshot"] is not None
    chain_updates = [e for e in updates if e["event"] == "chain_update"]
    assert chain_updates, updates
    assert {e["data"]["product"] for e in chain_updates} == {"NIFTY"}  # SPY's chains went to chain:SPY only
    assert not [e for e in after if e["event"] == "chain_update"]  # unsubscribed: none since


def test_malformed_and_oversized_messages_get_an_error_and_the_gateway_stays_healthy(
    ws_url: str, token: str
) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], bool, dict[str, Any]]:
        async with connect(f"{ws_url}?token={token}") as socket:
            await socket.send("{not json")
            malformed = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if malformed["event"] == "connected":  # sent just before the reply to a first message
                malformed = json.loads(await asyncio.wait_for(socket.recv(), 10))
            unknown = await _send(socket, {"action": "teleport"})
        closed = False
        async with connect(f"{ws_url}?token={token}", max_size=None) as big:
            await big.send("x" * 200_000)  # over API Gateway's 128 KB: the connection is closed (1009)
            try:
                await asyncio.wait_for(big.recv(), 5)
            except websockets.exceptions.ConnectionClosed:
                closed = True
        async with connect(f"{ws_url}?token={token}") as again:
            pong = await _send(again, {"action": "ping"})
        return malformed, unknown, closed, pong

    malformed, unknown, closed, pong = asyncio.run(scenario())
    assert malformed["event"] == "error"
    assert unknown["event"] == "error"
    assert closed
    assert pong["event"] == "pong"


def test_a_connection_that_died_unnoticed_is_gone_on_the_next_post_and_leaves_the_registry(
    api: Api, ws_url: str, token: str, producer: Any
) -> None:
    # GIVEN a registry entry for a connection whose $disconnect never arrived (the gateway no longer
    # knows it), subscribed to QQQ like a live one
    import redis

    from deltastream.ws.registry import ConnectionRegistry

    registry = ConnectionRegistry(redis.Redis.from_url(api.redis_url))
    registry.register(
        "ZGVhZGNvbm4tMDAx=", user_id="ghost", email="ghost@example.com", connected_at=0.0, rooms=["general"]
    )
    registry.join("ZGVhZGNvbm4tMDAx=", "product:QQQ")

    async def live_client() -> list[dict[str, Any]]:
        async with connect(f"{ws_url}?token={token}") as socket:
            await _send(socket, {"action": "subscribe", "type": "product", "symbol": "QQQ"})
            producer("QQQ", 2)
            return await _events(socket, 8)

    # WHEN updates for QQQ are fanned out
    received = asyncio.run(live_client())
    # THEN the live client got them, the dead one answered 410 and is no longer registered
    assert [e for e in received if e["event"] == "underlying_update"]
    assert registry.get("ZGVhZGNvbm4tMDAx=") is None
    assert "ZGVhZGNvbm4tMDAx=" not in registry.members(["product:QQQ"]).get("product:QQQ", set())
    assert api.cloud.status()["websocket"]["gone"] >= 1


def test_two_hundred_clients_all_receive_every_update_of_their_rooms_in_order(
    ws_url: str, token: str, producer: Any
) -> None:
    async def scenario() -> list[list[int]]:
        sockets = await asyncio.gather(*(connect(f"{ws_url}?token={token}") for _ in range(200)))
        try:
            await asyncio.gather(
                *(_send(s, {"action": "subscribe", "type": "product", "symbol": "SENSEX"}) for s in sockets)
            )
            records = producer("SENSEX", 5)
            expected = [r["tick_id"] for r in records if r["type"] == "underlying"]
            received = await asyncio.gather(*(_events(s, 15) for s in sockets))
            ticks = [
                [
                    e["data"]["tick_id"]
                    for e in events
                    if e["event"] == "underlying_update" and e["data"]["product"] == "SENSEX"
                ]
                for events in received
            ]
            assert expected
            return [t for t in ticks if t != sorted(t) or not set(expected) <= set(t)]
        finally:
            await asyncio.gather(*(s.close() for s in sockets))

    incomplete = asyncio.run(scenario())
    assert incomplete == []
