"""The WebSocket protocol (ARCHITECTURE §6), pure: client messages parsed and validated, server
events built and encoded.

Client → server: ``{"action": "subscribe"|"unsubscribe", "type": "product"|"chain", "symbol": SYM}``,
``{"action": "get_products"}``, ``{"action": "ping"}``. Server → client: ``{"event": NAME, "data": ...}``.
A bad message is answered with an ``error`` event whose ``code`` is the REST API's for the same
fault (:mod:`deltastream.api.errors`): ``bad_request`` (not JSON, not an object, unknown action),
``validation_error`` (a missing or wrong field), ``not_found`` (a symbol outside the catalogue).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from deltastream.api.errors import ApiError, BadRequest, NotFound, ValidationFailed

GENERAL: Final = "general"
EVENTS: Final = (
    "connected", "subscribed", "unsubscribed", "products", "pong", "error",
    "underlying_update", "chain_summary", "chain_update", "order_update",
)  # fmt: skip
ACTIONS: Final = ("subscribe", "unsubscribe", "get_products", "ping")
ROOM_TYPES: Final = ("product", "chain")

RoomType = Literal["product", "chain"]


def product_room(symbol: str) -> str:
    return f"product:{symbol}"


def chain_room(symbol: str) -> str:
    return f"chain:{symbol}"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class _RoomRequest:
    type: RoomType
    symbol: str

    @property
    def room(self) -> str:
        return product_room(self.symbol) if self.type == "product" else chain_room(self.symbol)


@dataclass(frozen=True, slots=True)
class Subscribe(_RoomRequest):
    pass


@dataclass(frozen=True, slots=True)
class Unsubscribe(_RoomRequest):
    pass


@dataclass(frozen=True, slots=True)
class GetProducts:
    pass


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientMessage = Subscribe | Unsubscribe | GetProducts | Ping


def parse_message(body: str | bytes | None, symbols: Collection[str]) -> ClientMessage:
    """The client message in ``body``; an :class:`ApiError` (its ``code`` goes to the client) when it
    is malformed or names a product outside ``symbols`` (upper-case). Symbols are case-insensitive."""
    try:
        message = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        raise BadRequest("the message is not JSON") from None
    if not isinstance(message, dict):
        raise BadRequest("the message must be a JSON object")
    action = message.get("action")
    if action == "ping":
        return Ping()
    if action == "get_products":
        return GetProducts()
    if action not in ("subscribe", "unsubscribe"):
        raise BadRequest(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    room_type = message.get("type", "product")
    if room_type not in ROOM_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(ROOM_TYPES)}, got {room_type!r}")
    symbol = message.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValidationFailed("symbol must be a non-empty string")
    symbol = symbol.strip().upper()
    if symbol not in symbols:
        raise NotFound(f"unknown product {symbol!r}; known: {', '.join(symbols)}")
    return (Subscribe if action == "subscribe" else Unsubscribe)(room_type, symbol)


def encode_event(name: str, data: Any) -> bytes:
    """``{"event": name, "data": data}`` as compact UTF-8 JSON (non-finite floats become null)."""
    return orjson.dumps({"event": name, "data": data})


def error_event(error: ApiError) -> bytes:
    return encode_event("error", error.body()["error"])


def decode_event(payload: bytes | str) -> tuple[str, Any]:
    """The ``(event, data)`` of a server message (for clients and tests)."""
    message = orjson.loads(payload)
    if not isinstance(message, Mapping) or not isinstance(message.get("event"), str):
        raise ValueError("not a server event")
    return message["event"], message.get("data")
