"""In-memory counterparts of the WebSocket adapters (registry, snapshots, poster) for unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from deltastream.ws.connections import PostReport
from deltastream.ws.protocol import decode_event


class MemoryRegistry:
    """ConnectionRegistry's behaviour in dicts."""

    def __init__(self) -> None:
        self.connections: dict[str, dict[str, Any]] = {}
        self.rooms: dict[str, set[str]] = {}

    def register(
        self, connection_id: str, *, user_id: str, email: str, connected_at: float, rooms: Iterable[str]
    ) -> None:
        self.connections[connection_id] = {
            "user_id": user_id,
            "email": email,
            "rooms": set(),
            "greeted": False,
        }
        for room in rooms:
            self.join(connection_id, room)

    def join(self, connection_id: str, room: str) -> bool:
        if connection_id not in self.connections:
            return False
        self.connections[connection_id]["rooms"].add(room)
        self.rooms.setdefault(room, set()).add(connection_id)
        return True

    def leave(self, connection_id: str, room: str) -> bool:
        if connection_id in self.connections:
            self.connections[connection_id]["rooms"].discard(room)
        members = self.rooms.get(room, set())
        was = connection_id in members
        members.discard(connection_id)
        return was

    def greet(self, connection_id: str) -> set[str] | None:
        connection = self.connections.get(connection_id)
        if connection is None or connection["greeted"]:
            return None
        connection["greeted"] = True
        return set(connection["rooms"])

    def members(self, rooms: Iterable[str]) -> dict[str, set[str]]:
        return {room: set(self.rooms.get(room, set())) for room in rooms}

    def remove(self, connection_id: str, *, also_rooms: Iterable[str] = ()) -> bool:
        connection = self.connections.pop(connection_id, None)
        for room in {*(connection["rooms"] if connection else ()), *also_rooms}:
            self.rooms.get(room, set()).discard(connection_id)
        return connection is not None

    def remove_many(self, gone: Sequence[tuple[str, Iterable[str]]]) -> int:
        return sum(self.remove(cid, also_rooms=rooms) for cid, rooms in gone)


class MemorySnapshots:
    def __init__(
        self, underlyings: dict[str, Any] | None = None, chains: dict[str, Any] | None = None
    ) -> None:
        self.underlyings = underlyings or {}
        self.chains = chains or {}

    def underlying(self, symbol: str) -> Any:
        return self.underlyings.get(symbol)

    def chain(self, symbol: str) -> Any:
        return self.chains.get(symbol)


class RecordingPoster:
    """Records every post; answers 410 for ``gone`` ids."""

    def __init__(self, gone: Iterable[str] = ()) -> None:
        self.gone = set(gone)
        self.posts: list[tuple[str, bytes]] = []

    def post_many(self, deliveries: Sequence[tuple[str, bytes]]) -> PostReport:
        report = PostReport()
        for connection_id, payload in deliveries:
            if connection_id in self.gone:
                report.gone.append(connection_id)
            else:
                self.posts.append((connection_id, payload))
                report.sent += 1
        return report

    def events_of(self, connection_id: str) -> list[tuple[str, Any]]:
        return [decode_event(p) for cid, p in self.posts if cid == connection_id]
