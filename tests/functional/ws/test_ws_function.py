"""WsFunction's real handler, in-process, on a real Redis, replying through a ``@connections`` double."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import redis

from deltastream.adapters import redis_keys as keys
from deltastream.adapters.redis_latest import RedisLatestState
from deltastream.services.enrich import LatestWrites
from deltastream.ws.protocol import decode_event
from tests.functional.ws.conftest import ws_event
from tests.functional.ws.connections_double import ConnectionsDouble
from tests.unit.ws.enriched import enriched_records


def events(connections: ConnectionsDouble, connection_id: str) -> list[tuple[str, Any]]:
    return [decode_event(m) for m in connections.received[connection_id]]


def test_connect_registers_the_authorised_user_in_general_and_its_room(
    ws_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    assert ws_app.handler(ws_event("$connect", "c1"), None) == {"statusCode": 200}
    assert redis_client.smembers(keys.ws_room("general")) == {b"c1"}
    assert redis_client.smembers(keys.ws_room("user:u1")) == {b"c1"}
    assert connections.received == {}  # nothing may be posted before $connect returns


def test_connect_without_an_authorizer_context_is_refused(
    ws_app: ModuleType, redis_client: redis.Redis
) -> None:
    assert ws_app.handler(ws_event("$connect", "c1", user_id=None), None) == {"statusCode": 401}
    assert not redis_client.exists(keys.ws_connection("c1"))


def test_subscribe_replies_connected_then_the_rooms_latest_value(
    ws_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    records = enriched_records()
    RedisLatestState(redis_client).save(
        LatestWrites(
            underlyings={"NIFTY": records[2]},
            chains={("NIFTY", records[-1]["expiry"]): records[-1]},
            summaries={"NIFTY": {"product": "NIFTY", "expiry": records[-1]["expiry"]}},
        )
    )
    ws_app.handler(ws_event("$connect", "c1"), None)
    body = {"action": "subscribe", "type": "product", "symbol": "NIFTY"}
    assert ws_app.handler(ws_event("subscribe", "c1", body), None) == {"statusCode": 200}
    ws_app.handler(ws_event("subscribe", "c1", body | {"type": "chain"}), None)
    assert events(connections, "c1") == [
        ("connected", {"connection_id": "c1", "rooms": ["general", "user:u1"]}),
        ("subscribed", {"room": "product:NIFTY", "snapshot": records[2]}),
        ("subscribed", {"room": "chain:NIFTY", "snapshot": records[-1]}),
    ]
    assert redis_client.smembers(keys.ws_room("chain:NIFTY")) == {b"c1"}


def test_a_bad_message_gets_an_error_and_the_connection_stays(
    ws_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    ws_app.handler(ws_event("$connect", "c1"), None)
    ws_app.handler(ws_event("$default", "c1", "{not json"), None)
    ws_app.handler(
        ws_event("subscribe", "c1", {"action": "subscribe", "type": "chain", "symbol": "DOGE"}), None
    )
    ws_app.handler(ws_event("ping", "c1", {"action": "ping"}), None)
    names = [(e, d.get("code") if e == "error" else None) for e, d in events(connections, "c1")]
    assert names == [("connected", None), ("error", "bad_request"), ("error", "not_found"), ("pong", None)]
    assert redis_client.exists(keys.ws_connection("c1"))


def test_get_products_answers_the_configured_products(
    ws_app: ModuleType, connections: ConnectionsDouble
) -> None:
    ws_app.handler(ws_event("$connect", "c1"), None)
    ws_app.handler(ws_event("get_products", "c1", {"action": "get_products"}), None)
    event, data = events(connections, "c1")[-1]
    assert event == "products"
    assert [p["symbol"] for p in data] == ["NIFTY", "BANKNIFTY", "AAPL"]


def test_disconnect_forgets_the_connection_everywhere(ws_app: ModuleType, redis_client: redis.Redis) -> None:
    ws_app.handler(ws_event("$connect", "c1"), None)
    ws_app.handler(ws_event("subscribe", "c1", {"action": "subscribe", "symbol": "NIFTY"}), None)
    assert ws_app.handler(ws_event("$disconnect", "c1"), None) == {"statusCode": 200}
    assert list(redis_client.scan_iter("ds:ws:*")) == []  # hash, rooms and user index: all emptied


def test_a_reply_to_a_sender_that_has_gone_removes_it(
    ws_app: ModuleType, redis_client: redis.Redis, connections: ConnectionsDouble
) -> None:
    ws_app.handler(ws_event("$connect", "c1"), None)
    ws_app.handler(ws_event("$connect", "c2"), None)
    connections.gone.add("c1")
    ws_app.handler(ws_event("ping", "c1", {"action": "ping"}), None)
    assert not redis_client.exists(keys.ws_connection("c1"))
    assert redis_client.smembers(keys.ws_room("general")) == {b"c2"}
