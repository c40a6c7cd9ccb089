"""The ``@connections`` management API (``apigatewaymanagementapi``), socket-free.

``POST /@connections/{id}`` (``PostToConnection``: the body is the data sent, as one message),
``GET /@connections/{id}`` (``GetConnection``: on the wire ``connectedAt``, ``identity {sourceIp,
userAgent}``, ``lastActiveAt`` — the SDKs' ``ConnectedAt``, ``Identity``, ``LastActiveAt``),
``DELETE /@connections/{id}`` (``DeleteConnection``: the gateway closes it, code 1000). A
connection that is closed or unknown answers ``410 GoneException``; data over the 128 KB message
payload quota answers ``413 PayloadTooLargeException``. Errors carry ``x-amzn-ErrorType``, which is
how botocore names the exception (``client.exceptions.GoneException``).

Paths may carry the stage: boto3 with ``endpoint_url="http://127.0.0.1:3001/<stage>"`` requests
``/<stage>/@connections/<percent-encoded id>``; both forms are served. SigV4 headers are not checked.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, TypeVar
from urllib.parse import unquote

from localcloud.ws_connections import ConnectionRegistry

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Delete",
    "ManagementResponse",
    "Post",
    "handle_management",
    "parse_management_path",
]

T = TypeVar("T")

MAX_MESSAGE_BYTES: Final = 128 * 1024  # "Message payload size: 128 KB" (WebSocket API quotas)
PREFIX: Final = "@connections"


@dataclass(frozen=True, slots=True)
class ManagementResponse:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Post(Generic[T]):
    """Send ``data`` on the connection (the transport does it)."""

    connection_id: str
    transport: T
    data: bytes


@dataclass(frozen=True, slots=True)
class Delete(Generic[T]):
    """Close the connection (the transport does it)."""

    connection_id: str
    transport: T


def parse_management_path(path: str, stages: Collection[str]) -> str | None:
    """The connection id of ``[/<stage>]/@connections/<id>`` (percent-decoded), or None when the path
    is not a management path (query strings are ignored)."""
    segments = path.split("?", 1)[0].strip("/").split("/")
    if len(segments) == 3 and segments[0] in stages:
        segments = segments[1:]
    if len(segments) != 2 or segments[0] != PREFIX or not segments[1]:
        return None
    return unquote(segments[1])


def _error(status: int, error_type: str, message: str) -> ManagementResponse:
    return ManagementResponse(
        status,
        json.dumps({"message": message}).encode(),
        (("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)),
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handle_management(
    registry: ConnectionRegistry[T], method: str, path: str, body: bytes, stages: Collection[str]
) -> tuple[ManagementResponse, Post[T] | Delete[T] | None]:
    """One management request → the response, and what the transport must then do."""
    connection_id = parse_management_path(path, stages)
    if connection_id is None:
        return _error(
            404, "NotFoundException", f"No method found matching route {path.split('?', 1)[0]}"
        ), None
    method = method.upper()
    if method not in ("POST", "GET", "DELETE"):
        return _error(405, "MethodNotAllowedException", f"{method} is not supported on @connections"), None
    entry = registry.get(connection_id)
    if entry is None:
        registry.gone += 1
        return _error(410, "GoneException", f"Connection {connection_id} is gone"), None
    if method == "GET":
        info = entry.info
        document = {
            "connectedAt": _iso(info.connected_at),
            "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
            "lastActiveAt": _iso(info.last_active),
        }
        return ManagementResponse(
            200, json.dumps(document).encode(), (("Content-Type", "application/json"),)
        ), None
    if method == "DELETE":
        return ManagementResponse(204), Delete(connection_id, entry.transport)
    if len(body) > MAX_MESSAGE_BYTES:
        return _error(413, "PayloadTooLargeException", "Message too long"), None
    registry.posts += 1
    return ManagementResponse(200), Post(connection_id, entry.transport, body)
