"""WebSocket events and route selection without sockets; the REST authorizer reused for $connect."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.rest_auth import AuthorizationDenied, LambdaAuthorizer
from localcloud.rest_config import AuthorizerConfig
from localcloud.rest_events import HttpRequest
from localcloud.runtime import Invocation
from localcloud.ws_config import WebSocketApiConfig, WsRouteConfig
from localcloud.ws_connections import ConnectionRegistry
from localcloud.ws_events import (
    ConnectionInfo,
    authorizer_event,
    connect_event,
    connect_status,
    disconnect_event,
    disconnect_reason,
    message_event,
    new_id,
    reply_body,
    select_route,
)

CONNECTED = datetime(2024, 2, 9, 18, 11, 43, 419000, tzinfo=UTC)
RECEIVED = CONNECTED + timedelta(seconds=5)


def api(*keys: str, expression: str = "$request.body.action") -> WebSocketApiConfig:
    routes = {key: WsRouteConfig(key, f"{key}Fn") for key in keys}
    return WebSocketApiConfig("WsApi", "abc123", "dev", "us-east-1", "123456789012", routes, expression)


def info(authorizer: dict[str, Any] | None = None) -> ConnectionInfo:
    headers = (("Host", "127.0.0.1:3001"), ("User-Agent", "ua/1"), ("X-Multi", "a"), ("X-Multi", "b"))
    return ConnectionInfo(
        "conn=", api("$connect"), CONNECTED, "10.0.0.1", headers, "token=good&a=1&a=2", authorizer, CONNECTED
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('{"action": "echo"}', "echo"),
        ('{"action": "nope"}', "$default"),
        ('{"action": "$connect"}', "$default"),  # special routes are never selected by a message
        ('{"other": 1}', "$default"),
        ("not json", "$default"),
        ("[1, 2]", "$default"),
        (b"\x00binary", "$default"),
        ('{"action": 7}', "7"),
    ],
)
def test_route_selection(message: str | bytes, expected: str) -> None:
    assert select_route(api("$connect", "echo", "7", "$default"), message) == expected


def test_route_selection_without_default_is_none_and_nested_expressions_work() -> None:
    assert select_route(api("echo"), '{"action": "nope"}') is None
    assert (
        select_route(api("echo", expression="$request.body.meta.kind"), '{"meta": {"kind": "echo"}}')
        == "echo"
    )


def test_connect_and_authorizer_events() -> None:
    event = connect_event(info(), "req=", RECEIVED)
    request = event["requestContext"]

    assert event["queryStringParameters"] == {"token": "good", "a": "2"}
    assert event["multiValueQueryStringParameters"] == {"token": ["good"], "a": ["1", "2"]}
    assert event["headers"]["X-Multi"] == "b"
    assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert (request["routeKey"], request["eventType"], request["messageDirection"]) == (
        "$connect",
        "CONNECT",
        "IN",
    )
    assert request["connectedAt"] == 1707502303419
    assert request["requestTimeEpoch"] == 1707502308419
    assert request["requestTime"] == "09/Feb/2024:18:11:48 +0000"
    assert request["identity"] == {"sourceIp": "10.0.0.1", "userAgent": "ua/1"}
    assert request["domainName"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert "authorizer" not in request
    assert authorizer_event(info(), "req=", RECEIVED)["stageVariables"] is None


def test_message_event_carries_the_authorizer_and_base64_for_binary() -> None:
    connection = info({"principalId": "user-1", "user": "u1"})

    text = message_event(connection, "echo", '{"a":1}', message_id="m=", request_id="r=", received=RECEIVED)
    binary = message_event(
        connection, "$default", b"\x00\x01", message_id="m=", request_id="r=", received=RECEIVED
    )

    assert (text["body"], text["isBase64Encoded"]) == ('{"a":1}', False)
    assert text["requestContext"]["messageId"] == "m="
    assert text["requestContext"]["eventType"] == "MESSAGE"
    assert text["requestContext"]["authorizer"] == {"principalId": "user-1", "user": "u1"}
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\x00\x01", True)
    assert "queryStringParameters" not in text


def test_disconnect_event_and_reasons() -> None:
    event = disconnect_event(info(), 1005, disconnect_reason(1005, ""), request_id="r=", received=RECEIVED)

    request = event["requestContext"]
    assert (request["eventType"], request["routeKey"], request["disconnectStatusCode"]) == (
        "DISCONNECT",
        "$disconnect",
        1005,
    )
    assert request["disconnectReason"] == "Client-side close frame status not set"
    assert disconnect_reason(1000, "done") == "done"


@pytest.mark.parametrize(
    ("payload", "status"), [({"statusCode": 200}, 200), ({"statusCode": "401"}, 401), (None, 200), ({}, 200)]
)
def test_connect_status(payload: Any, status: int) -> None:
    assert connect_status(payload) == status


def test_reply_body() -> None:
    assert reply_body({"statusCode": 200, "body": "hi"}) == "hi"
    assert reply_body({"statusCode": 200}) is None
    assert reply_body({"body": {"a": 1}}) == '{"a": 1}'


def test_ids_look_like_api_gateway_ids() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 16 and i.endswith("=") for i in ids)


def test_registry_expiry_idle_and_duration() -> None:
    registry: ConnectionRegistry[str] = ConnectionRegistry()
    idle = info()
    old = ConnectionInfo("old=", idle.api, CONNECTED - timedelta(hours=3), "ip", (), "", None, RECEIVED)
    registry.add(idle, "a")
    registry.add(old, "b")

    expired = registry.expired(CONNECTED + timedelta(minutes=11), timedelta(minutes=10), timedelta(hours=2))

    assert {(e.connection_id, e.reason) for e in expired} == {("conn=", "idle"), ("old=", "duration")}


# The $connect REQUEST authorizer is the REST gateway's, fed a WebSocket authorizer event.
AUTHORIZER = AuthorizerConfig("Token", "AuthFn", "REQUEST", ttl_s=0, query_strings=("token",))


def authorize(query: str, result: Invocation, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def invoke(event: dict[str, Any]) -> Invocation:
        (events if events is not None else []).append(event)
        return result

    connection = info()
    request = HttpRequest("GET", "/dev", query, connection.headers, b"", connection.source_ip)
    return LambdaAuthorizer(AUTHORIZER, invoke).authorize(
        request,
        connection.api.method_arn("$connect"),
        lambda: authorizer_event(connection, "r=", RECEIVED),
        {},
    )


def allowing(effect: str = "Allow") -> Invocation:
    statement = {
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": "arn:aws:execute-api:*:*:abc123/dev/$connect",
    }
    payload = {"principalId": "user-1", "policyDocument": {"Statement": [statement]}, "context": {"n": 7}}
    return Invocation("id", True, payload, None, 1.0, None, False)


def test_authorizer_allow_gives_the_context_from_a_websocket_request_event() -> None:
    events: list[dict[str, Any]] = []

    context = authorize("token=good", allowing(), events)

    assert (context["principalId"], context["n"]) == ("user-1", "7")
    assert events[0]["type"] == "REQUEST"
    assert events[0]["methodArn"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/$connect"
    assert events[0]["requestContext"]["eventType"] == "CONNECT"
    assert events[0]["queryStringParameters"]["token"] == "good"


@pytest.mark.parametrize(
    ("query", "result", "status"),
    [
        ("", allowing(), 401),  # identity source missing: not invoked
        ("token=x", allowing("Deny"), 403),
        ("token=x", Invocation("id", False, None, {"errorMessage": "Unauthorized"}, 1.0, None, False), 401),
        ("token=x", Invocation("id", False, None, {"errorMessage": "boom"}, 1.0, None, False), 500),
    ],
)
def test_authorizer_rejections(query: str, result: Invocation, status: int) -> None:
    events: list[dict[str, Any]] = []
    with pytest.raises(AuthorizationDenied) as denied:
        authorize(query, result, events)
    assert denied.value.error.status == status
    assert len(events) == (0 if not query else 1)
