"""WsFunction's use cases on in-memory ports: rooms on connect, the connected event on the first
message, subscribe snapshots, errors that keep the connection."""

from __future__ import annotations

from typing import Any

import orjson

from deltastream.ws.messages import MAX_MESSAGE_BYTES
from deltastream.ws.protocol import decode_event
from deltastream.ws.session import WsSession
from tests.unit.ws.enriched import enriched_records, wide_chain
from tests.unit.ws.fakes import MemoryRegistry, MemorySnapshots


def session(snapshots: MemorySnapshots | None = None) -> tuple[WsSession, MemoryRegistry]:
    registry = MemoryRegistry()
    ws = WsSession(
        registry=registry,
        snapshots=snapshots or MemorySnapshots(),
        symbols=["NIFTY", "AAPL", "NOT_A_PRODUCT"],
        clock=lambda: 1_700_000_000.0,
    )
    ws.connect("c1", user_id="u1", email="ada@example.com")
    return ws, registry


def events(replies: list[bytes]) -> list[tuple[str, Any]]:
    return [decode_event(r) for r in replies]


def test_connect_joins_general_and_the_users_room() -> None:
    _, registry = session()
    assert registry.connections["c1"]["rooms"] == {"general", "user:u1"}


def test_the_first_message_is_answered_after_a_connected_event_and_later_ones_are_not() -> None:
    ws, _ = session()
    first = events(ws.message("c1", '{"action":"ping"}'))
    second = events(ws.message("c1", '{"action":"ping"}'))
    assert first == [
        ("connected", {"connection_id": "c1", "rooms": ["general", "user:u1"]}),
        ("pong", {"ts": 1_700_000_000.0}),
    ]
    assert second == [("pong", {"ts": 1_700_000_000.0})]


def test_subscribe_joins_the_room_and_answers_with_its_latest_value() -> None:
    tick = enriched_records()[2]
    ws, registry = session(MemorySnapshots(underlyings={"NIFTY": tick}))
    *_, (event, data) = events(ws.message("c1", '{"action":"subscribe","type":"product","symbol":"nifty"}'))
    assert (event, data) == ("subscribed", {"room": "product:NIFTY", "snapshot": tick})
    assert "c1" in registry.rooms["product:NIFTY"]


def test_subscribing_to_a_chain_with_nothing_cached_answers_a_null_snapshot() -> None:
    ws, _ = session()
    *_, reply = events(ws.message("c1", '{"action":"subscribe","type":"chain","symbol":"AAPL"}'))
    assert reply == ("subscribed", {"room": "chain:AAPL", "snapshot": None})


def test_a_wide_chain_snapshot_is_reduced_to_fit() -> None:
    ws, _ = session(MemorySnapshots(chains={"NIFTY": wide_chain(1001)}))
    *_, payload = ws.message("c1", '{"action":"subscribe","type":"chain","symbol":"NIFTY"}')
    assert len(payload) <= MAX_MESSAGE_BYTES
    assert orjson.loads(payload)["data"]["snapshot"]["reduced"]["strikes_kept"] == 101


def test_unsubscribe_leaves_the_room() -> None:
    ws, registry = session()
    ws.message("c1", '{"action":"subscribe","type":"chain","symbol":"NIFTY"}')
    *_, reply = events(ws.message("c1", '{"action":"unsubscribe","type":"chain","symbol":"NIFTY"}'))
    assert reply == ("unsubscribed", {"room": "chain:NIFTY", "was_subscribed": True})
    assert "c1" not in registry.rooms["chain:NIFTY"]


def test_an_unknown_symbol_is_an_error_and_the_connection_stays() -> None:
    ws, registry = session()
    *_, (event, data) = events(
        ws.message("c1", '{"action":"subscribe","type":"product","symbol":"NOT_A_PRODUCT"}')
    )
    assert event == "error"
    assert data["code"] == "not_found"
    assert "c1" in registry.connections


def test_get_products_lists_the_configured_products_of_the_catalogue() -> None:
    ws, _ = session()
    *_, (event, data) = events(ws.message("c1", '{"action":"get_products"}'))
    assert event == "products"
    assert [p["symbol"] for p in data] == ["NIFTY", "AAPL"]
    assert set(data[0]) == {"symbol", "name", "currency", "lot_size", "strike_step", "tick_size"}


def test_subscribing_from_an_unregistered_connection_is_a_conflict() -> None:
    ws, _ = session()
    *_, (event, data) = events(ws.message("ghost", '{"action":"subscribe","symbol":"NIFTY"}'))
    assert (event, data["code"]) == ("error", "conflict")


def test_disconnect_forgets_the_connection() -> None:
    ws, registry = session()
    assert ws.disconnect("c1")
    assert registry.connections == {}
    assert registry.rooms["general"] == set()
