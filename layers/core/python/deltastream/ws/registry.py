"""The WebSocket connection registry and its rooms, in Redis (keys: :mod:`deltastream.adapters.redis_keys`).

A connection is a hash (``user_id``, ``email``, ``connected_at`` and one ``room:{room}`` field per
room it is in); a room is a set of connection ids; a user's connections are a set too. Every key
expires 2 h after its last write: API Gateway closes any connection after 2 h, so only dead entries
ever expire.

Atomicity: register is one MULTI; join is a Lua script (a connection removed concurrently by
``$disconnect`` must not be re-added to a room); remove is a Lua script that reads the connection's
rooms and leaves all of them in one step. The scripts touch keys they compute from the connection
hash, so they need a non-cluster Redis (ElastiCache with cluster mode disabled, as in the template).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import redis
from redis.typing import EncodableT, FieldT

from deltastream.adapters import redis_keys as keys

ROOM_FIELD: Final = "room:"  # hash field prefix: room:{room} → "1"
GREETED_FIELD: Final = "greeted"  # set by the first message of a connection (see session.py)

_JOIN: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], '1')
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# The hash's fields the first time (the connected event is due), 0 afterwards or when unknown.
_GREET: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
return redis.call('HKEYS', KEYS[1])
"""

# ARGV: id, room-field prefix, room-key prefix, user-key prefix, then rooms to leave regardless (the
# fan-out passes the rooms it found a 410'd connection in, whose hash may have expired already).
_REMOVE: Final = """
local id = ARGV[1]
local fields = redis.call('HGETALL', KEYS[1])
local plen = string.len(ARGV[2])
for i = 1, #fields, 2 do
  local name = fields[i]
  if string.sub(name, 1, plen) == ARGV[2] then
    redis.call('SREM', ARGV[3] .. string.sub(name, plen + 1), id)
  elseif name == 'user_id' then
    redis.call('SREM', ARGV[4] .. fields[i + 1], id)
  end
end
for i = 5, #ARGV do
  redis.call('SREM', ARGV[3] .. ARGV[i], id)
end
return redis.call('DEL', KEYS[1])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class Connection:
    connection_id: str
    user_id: str
    email: str
    connected_at: float  # epoch seconds
    rooms: frozenset[str] = field(default_factory=frozenset)


class ConnectionRegistry:
    """Connections, rooms and users on redis-py."""

    def __init__(self, client: redis.Redis, *, ttl_s: int = keys.WS_CONNECTION_TTL_S) -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._join = client.register_script(_JOIN)
        self._remove = client.register_script(_REMOVE)
        self._greet = client.register_script(_GREET)

    def register(
        self, connection_id: str, *, user_id: str, email: str, connected_at: float, rooms: Iterable[str]
    ) -> None:
        """Record a new connection in ``rooms`` (one MULTI: all of it or nothing)."""
        rooms = list(dict.fromkeys(rooms))
        conn_key = keys.ws_connection(connection_id)
        mapping: dict[FieldT, EncodableT] = {
            "user_id": user_id,
            "email": email,
            "connected_at": repr(connected_at),
        }
        mapping.update({ROOM_FIELD + room: "1" for room in rooms})
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(conn_key)  # an id is never reused by API Gateway; this only guards tests/replays
        pipe.hset(conn_key, mapping=mapping)
        pipe.expire(conn_key, self._ttl_s)
        for room in rooms:
            pipe.sadd(keys.ws_room(room), connection_id)
            pipe.expire(keys.ws_room(room), self._ttl_s)
        pipe.sadd(keys.ws_user(user_id), connection_id)
        pipe.expire(keys.ws_user(user_id), self._ttl_s)
        pipe.execute()

    def join(self, connection_id: str, room: str) -> bool:
        """Add the connection to ``room``; False (and nothing written) when it is not registered."""
        keys_ = [keys.ws_connection(connection_id), keys.ws_room(room)]
        return bool(self._join(keys=keys_, args=[connection_id, ROOM_FIELD + room, self._ttl_s]))

    def leave(self, connection_id: str, room: str) -> bool:
        """Take the connection out of ``room``; True when it was in it."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(keys.ws_connection(connection_id), ROOM_FIELD + room)
        pipe.srem(keys.ws_room(room), connection_id)
        _, removed = pipe.execute()
        return bool(removed)

    def get(self, connection_id: str) -> Connection | None:
        fields = {
            _text(k): _text(v) for k, v in self._redis.hgetall(keys.ws_connection(connection_id)).items()
        }
        if "user_id" not in fields:
            return None
        return Connection(
            connection_id=connection_id,
            user_id=fields["user_id"],
            email=fields.get("email", ""),
            connected_at=float(fields.get("connected_at", 0.0)),
            rooms=frozenset(k.removeprefix(ROOM_FIELD) for k in fields if k.startswith(ROOM_FIELD)),
        )

    def rooms_of(self, connection_id: str) -> set[str]:
        names = (_text(k) for k in self._redis.hkeys(keys.ws_connection(connection_id)))
        return {n.removeprefix(ROOM_FIELD) for n in names if n.startswith(ROOM_FIELD)}

    def greet(self, connection_id: str) -> set[str] | None:
        """Mark the connection greeted; its rooms the first time (when the ``connected`` event is due),
        None afterwards or when the connection is unknown."""
        reply = self._greet(keys=[keys.ws_connection(connection_id)], args=[GREETED_FIELD])
        if not isinstance(reply, list):
            return None
        return {n.removeprefix(ROOM_FIELD) for n in map(_text, reply) if n.startswith(ROOM_FIELD)}

    def members(self, rooms: Iterable[str]) -> dict[str, set[str]]:
        """Connection ids per room, all rooms in one round trip."""
        rooms = list(dict.fromkeys(rooms))
        if not rooms:
            return {}
        pipe = self._redis.pipeline(transaction=False)
        for room in rooms:
            pipe.smembers(keys.ws_room(room))
        return {room: {_text(m) for m in ids} for room, ids in zip(rooms, pipe.execute(), strict=True)}

    def connections_of_user(self, user_id: str) -> set[str]:
        return {_text(m) for m in self._redis.smembers(keys.ws_user(user_id))}

    def remove(self, connection_id: str, *, also_rooms: Iterable[str] = ()) -> bool:
        """Forget the connection: leave every room it is in (and ``also_rooms``), its user's set, its
        hash — atomically. True when its hash existed."""
        return bool(
            self._remove(
                keys=[keys.ws_connection(connection_id)], args=self._remove_args(connection_id, also_rooms)
            )
        )

    def remove_many(self, gone: Sequence[tuple[str, Iterable[str]]]) -> int:
        """:meth:`remove` for each ``(connection_id, also_rooms)``, in one round trip."""
        if not gone:
            return 0
        pipe = self._redis.pipeline(transaction=False)
        for connection_id, also_rooms in gone:
            self._remove(
                keys=[keys.ws_connection(connection_id)],
                args=self._remove_args(connection_id, also_rooms),
                client=pipe,
            )
        return sum(bool(n) for n in pipe.execute())

    @staticmethod
    def _remove_args(connection_id: str, also_rooms: Iterable[str]) -> list[str]:
        return [connection_id, ROOM_FIELD, keys.ws_room(""), keys.ws_user(""), *also_rooms]
