"""Pure translators of the WebSocket gateway: a connection's handshake and frames → the Lambda proxy
events API Gateway sends (``CONNECT``, ``MESSAGE``, ``DISCONNECT``, the REQUEST authorizer's), route
selection, and integration responses → what the client gets. No sockets here.

Event shapes follow "Set up a WebSocket API integration" / "Working with routes for WebSocket APIs" in
the API Gateway developer guide (the example events of the Lambda proxy integration): ``headers``,
``multiValueHeaders``, query parameters on ``$connect`` (and ``$disconnect``) only; ``body`` and
``isBase64Encoded`` on messages; ``requestContext`` with ``routeKey``, ``eventType``,
``extendedRequestId``, ``requestTime``, ``messageDirection: IN``, ``stage``, ``connectedAt``,
``requestTimeEpoch``, ``identity``, ``requestId``, ``domainName``, ``connectionId``, ``apiId`` and, once a
REQUEST authorizer allowed ``$connect``, ``authorizer`` (its ``context`` values as strings plus
``principalId``) on every later event of the connection.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from localcloud.rest_events import request_time
from localcloud.ws_config import WebSocketApiConfig

__all__ = [
    "ConnectionInfo",
    "authorizer_event",
    "connect_event",
    "connect_status",
    "disconnect_event",
    "disconnect_reason",
    "gateway_message",
    "message_event",
    "new_id",
    "reply_body",
    "select_route",
]

CONNECT: Final = "$connect"
DISCONNECT: Final = "$disconnect"
DEFAULT: Final = "$default"


def new_id() -> str:
    """An id in API Gateway's format for connection, request and message ids: 16 characters of URL-safe
    base64 ending in ``=`` (``Kz5y0cIMoAMCF-w=``). The ``=`` makes SDKs percent-encode it in paths."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(slots=True)
class ConnectionInfo:
    """What the gateway keeps about one connection (API Gateway's connection record)."""

    connection_id: str
    api: WebSocketApiConfig
    connected_at: datetime  # aware UTC
    source_ip: str
    headers: tuple[tuple[str, str], ...]  # the upgrade request's header lines, in order
    query: str  # the upgrade request's query string
    authorizer: dict[str, Any] | None = None  # requestContext.authorizer, set once $connect is allowed
    last_active: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def user_agent(self) -> str | None:
        return next((value for name, value in reversed(self.headers) if name.lower() == "user-agent"), None)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in reversed(self.headers) if key.lower() == wanted), None)


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _request_context(
    info: ConnectionInfo, route_key: str, event_type: str, request_id: str, received: datetime
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(received),
        "messageDirection": "IN",
        "stage": info.api.stage,
        "connectedAt": epoch_ms(info.connected_at),
        "requestTimeEpoch": epoch_ms(received),
        "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
        "requestId": request_id,
        "domainName": info.api.domain_name,
        "connectionId": info.connection_id,
        "apiId": info.api.api_id,
    }
    if info.authorizer is not None:
        context["authorizer"] = dict(info.authorizer)
    return context


def _handshake_fields(info: ConnectionInfo) -> dict[str, Any]:
    """Headers and query parameters of the upgrade request (null when there are none, as in AWS)."""
    headers = _grouped(info.headers)
    query = _grouped(parse_qsl(info.query, keep_blank_values=True))
    return {
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
    }


def authorizer_event(info: ConnectionInfo, request_id: str, received: datetime) -> dict[str, Any]:
    """The REQUEST authorizer's event for ``$connect`` (without ``type`` and ``methodArn``, which
    :class:`~localcloud.rest_auth.LambdaAuthorizer` adds)."""
    return {
        **_handshake_fields(info),
        "stageVariables": dict(info.api.stage_variables) or None,
        "requestContext": _request_context(info, CONNECT, "CONNECT", request_id, received),
    }


def connect_event(info: ConnectionInfo, request_id: str, received: datetime) -> dict[str, Any]:
    return {
        **_handshake_fields(info),
        "requestContext": _request_context(info, CONNECT, "CONNECT", request_id, received),
        "isBase64Encoded": False,
    }


def message_event(
    info: ConnectionInfo,
    route_key: str,
    message: str | bytes,
    *,
    message_id: str,
    request_id: str,
    received: datetime,
) -> dict[str, Any]:
    """A ``MESSAGE`` event; a binary frame's payload arrives base64-encoded."""
    context = _request_context(info, route_key, "MESSAGE", request_id, received)
    context = {"routeKey": route_key, "messageId": message_id, **context}
    binary = isinstance(message, bytes)
    return {
        "requestContext": context,
        "body": base64.b64encode(message).decode() if isinstance(message, bytes) else message,
        "isBase64Encoded": binary,
    }


def disconnect_event(
    info: ConnectionInfo, status_code: int, reason: str, *, request_id: str, received: datetime
) -> dict[str, Any]:
    context = _request_context(info, DISCONNECT, "DISCONNECT", request_id, received)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    headers = _grouped(info.headers)
    return {
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


def disconnect_reason(code: int, reason: str) -> str:
    """``disconnectReason``: the close frame's reason, or what API Gateway writes when there is none."""
    if reason:
        return reason
    if code == 1005:
        return "Client-side close frame status not set"
    if code == 1006:
        return "Connection closed abnormally"
    if code == 1001:
        return "Going away"
    return ""


def select_route(api: WebSocketApiConfig, message: str | bytes) -> str | None:
    """The route for a message, as API Gateway selects it: the value the ``RouteSelectionExpression``
    (``$request.body.action``) picks from a JSON body, when a route has that key; otherwise (no such
    route, a non-JSON or binary body, no such field) ``$default``; None when there is no ``$default``
    either (the client then gets a ``Forbidden`` message)."""
    path = api.selection_path
    if path is not None and isinstance(message, str):
        try:
            value: Any = json.loads(message)
        except ValueError:
            value = None
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            key = str(value)
            if key in api.routes and key not in (CONNECT, DISCONNECT):
                return key
    return DEFAULT if DEFAULT in api.routes else None


def connect_status(payload: Any) -> int:
    """The HTTP status a ``$connect`` integration's result gives the upgrade: its ``statusCode``; a
    result without one (``None``, ``{}``) accepts the connection."""
    if isinstance(payload, dict) and "statusCode" in payload:
        try:
            return int(payload["statusCode"])
        except (TypeError, ValueError):
            return 502
    return 200


def reply_body(payload: Any) -> str | None:
    """What a two-way route sends back for a Lambda proxy result: its ``body`` (a string; other values
    JSON-encoded); None when the result has no body."""
    if isinstance(payload, dict):
        if "body" not in payload or payload["body"] is None:
            return None
        body = payload["body"]
        return body if isinstance(body, str) else json.dumps(body)
    if payload is None:
        return None
    return payload if isinstance(payload, str) else json.dumps(payload)


def gateway_message(message: str, connection_id: str, request_id: str) -> str:
    """A message API Gateway itself sends on the socket when a route cannot be served:
    ``{"message": "Forbidden", ...}`` (no route, no ``$default``), ``"Internal server error"`` (the
    integration failed), ``"Endpoint request timed out"``."""
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})
