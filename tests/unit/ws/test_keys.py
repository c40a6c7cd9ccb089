"""The WebSocket registry's Redis keys are a contract between WsFunction and FanoutFunction."""

from __future__ import annotations

from deltastream.adapters import redis_keys as keys


def test_ws_key_names_and_ttl_are_stable() -> None:
    assert keys.ws_connection("abc=") == "ds:ws:conn:abc="
    assert keys.ws_room("chain:NIFTY") == "ds:ws:room:chain:NIFTY"
    assert keys.ws_user("u1") == "ds:ws:user:u1"
    assert keys.WS_CONNECTION_TTL_S == 7_200  # API Gateway's maximum connection duration
