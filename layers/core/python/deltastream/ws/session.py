"""WsFunction's use cases: a connection's life and the messages it sends (ARCHITECTURE §6).

Each method returns the encoded events to send back to that connection, in order; the entrypoint
posts them (a route integration's return value reaches the client only with a route response, so
replies are posted through ``@connections`` explicitly).

The ``connected`` event: API Gateway refuses ``PostToConnection`` until ``$connect`` has returned, so
it cannot be sent from ``$connect``. It goes out first in reply to the connection's first message
(whatever that message is), carrying the connection id and the rooms joined on connect; a client
that wants it at once sends ``{"action": "ping"}`` after opening the socket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from deltastream.api.errors import ApiError, Conflict
from deltastream.domain.products import PRODUCTS
from deltastream.ws.messages import MAX_MESSAGE_BYTES, Fitted, fit_chain_event, fit_event, is_chain
from deltastream.ws.protocol import (
    GENERAL,
    GetProducts,
    Ping,
    Subscribe,
    Unsubscribe,
    encode_event,
    error_event,
    parse_message,
    user_room,
)

logger = logging.getLogger(__name__)


class Registry(Protocol):
    def register(
        self, connection_id: str, *, user_id: str, email: str, connected_at: float, rooms: Sequence[str]
    ) -> None: ...

    def join(self, connection_id: str, room: str) -> bool: ...

    def leave(self, connection_id: str, room: str) -> bool: ...

    def greet(self, connection_id: str) -> set[str] | None: ...

    def remove(self, connection_id: str) -> bool: ...


class Snapshots(Protocol):
    def underlying(self, symbol: str) -> Any: ...

    def chain(self, symbol: str) -> Any: ...


def product_listing(symbols: Sequence[str]) -> list[dict[str, Any]]:
    """The ``products`` event's data: the configured products' contract specs."""
    return [
        {
            "symbol": p.symbol,
            "name": p.name,
            "currency": p.currency,
            "lot_size": p.lot_size,
            "strike_step": p.strike_step,
            "tick_size": p.tick_size,
        }
        for p in (PRODUCTS[s] for s in symbols)
    ]


class WsSession:
    """Connect, disconnect and the client actions, on a registry and the latest-state snapshots."""

    def __init__(
        self,
        *,
        registry: Registry,
        snapshots: Snapshots,
        symbols: Sequence[str],
        clock: Callable[[], float] = time.time,
        limit: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._registry = registry
        self._snapshots = snapshots
        self.symbols = tuple(s for s in symbols if s in PRODUCTS)  # the configured, known products
        self._clock = clock
        self._limit = limit
        self._products = encode_event("products", product_listing(self.symbols))

    def connect(self, connection_id: str, *, user_id: str, email: str) -> list[str]:
        """Register the connection in ``general`` and its user's room; the rooms joined."""
        rooms = [GENERAL, user_room(user_id)]
        self._registry.register(
            connection_id, user_id=user_id, email=email, connected_at=self._clock(), rooms=rooms
        )
        return rooms

    def disconnect(self, connection_id: str) -> bool:
        return self._registry.remove(connection_id)

    def message(self, connection_id: str, body: str | bytes | None) -> list[bytes]:
        """The replies to one client message (an ``error`` event for a bad one; never raises for
        bad input). The first message of a connection is preceded by ``connected``."""
        replies = []
        rooms = self._registry.greet(connection_id)
        if rooms is not None:
            replies.append(
                encode_event("connected", {"connection_id": connection_id, "rooms": sorted(rooms)})
            )
        try:
            replies.append(self._answer(connection_id, body))
        except ApiError as error:
            replies.append(error_event(error))
        return replies

    def _answer(self, connection_id: str, body: str | bytes | None) -> bytes:
        message = parse_message(body, self.symbols)
        match message:
            case Ping():
                return encode_event("pong", {"ts": self._clock()})
            case GetProducts():
                return self._products
            case Unsubscribe():
                was_member = self._registry.leave(connection_id, message.room)
                return encode_event("unsubscribed", {"room": message.room, "was_subscribed": was_member})
            case Subscribe():
                if not self._registry.join(connection_id, message.room):
                    raise Conflict("this connection is not registered; reconnect")
                return self._subscribed(message).payload
        raise AssertionError(f"unhandled message {message!r}")  # pragma: no cover

    def _subscribed(self, message: Subscribe) -> Fitted:
        room = message.room
        if message.type == "product":
            snapshot = self._snapshots.underlying(message.symbol)
        else:
            snapshot = self._snapshots.chain(message.symbol)
        if is_chain(snapshot):
            fitted = fit_chain_event(
                "subscribed", snapshot, self._limit, wrap=lambda chain: {"room": room, "snapshot": chain}
            )
        else:
            fitted = fit_event("subscribed", {"room": room, "snapshot": snapshot}, self._limit)
        if fitted.reduction:
            logger.warning("subscribe snapshot of %s reduced to fit: %s", room, fitted.reduction)
        return fitted
