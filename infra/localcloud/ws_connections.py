"""Connection bookkeeping of the WebSocket gateway: open connections by id, with their transport, and the
counters ``/_local/status`` shows. Socket-free: the transport object is opaque (a type parameter).

Mutated only on the gateway's event loop; :meth:`ConnectionRegistry.status` may be read from any
thread (it copies plain integers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Literal, TypeVar

from localcloud.ws_events import ConnectionInfo

__all__ = ["ConnectionRegistry", "Expiry", "Open"]

T = TypeVar("T")


@dataclass(slots=True)
class Open(Generic[T]):
    info: ConnectionInfo
    transport: T


@dataclass(frozen=True, slots=True)
class Expiry:
    connection_id: str
    reason: Literal["idle", "duration"]


class ConnectionRegistry(Generic[T]):
    def __init__(self) -> None:
        self._open: dict[str, Open[T]] = {}
        self.messages_in = 0
        self.messages_out = 0  # posts and two-way replies delivered
        self.posts = 0  # @connections POSTs accepted
        self.gone = 0  # @connections requests answered 410
        self.connected = 0  # connections ever opened

    def add(self, info: ConnectionInfo, transport: T) -> None:
        self._open[info.connection_id] = Open(info, transport)
        self.connected += 1

    def remove(self, connection_id: str) -> Open[T] | None:
        return self._open.pop(connection_id, None)

    def get(self, connection_id: str) -> Open[T] | None:
        return self._open.get(connection_id)

    def touch(self, connection_id: str, now: datetime) -> None:
        entry = self._open.get(connection_id)
        if entry is not None:
            entry.info.last_active = now

    def __len__(self) -> int:
        return len(self._open)

    def expired(self, now: datetime, idle: timedelta, max_duration: timedelta) -> list[Expiry]:
        """Connections API Gateway would close now: idle for ``idle`` (10 min) or open for
        ``max_duration`` (2 h)."""
        expired: list[Expiry] = []
        for connection_id, entry in self._open.items():
            if now - entry.info.connected_at >= max_duration:
                expired.append(Expiry(connection_id, "duration"))
            elif now - entry.info.last_active >= idle:
                expired.append(Expiry(connection_id, "idle"))
        return expired

    def status(self) -> dict[str, int]:
        return {
            "connections": len(self._open),
            "connected": self.connected,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "posts": self.posts,
            "gone": self.gone,
        }
