"""The connection registry on a real Redis: keys, TTLs, atomic join/remove."""

from __future__ import annotations

import pytest
import redis

from deltastream.adapters import redis_keys as keys
from deltastream.ws.registry import ConnectionRegistry


@pytest.fixture
def registry(redis_client: redis.Redis) -> ConnectionRegistry:
    return ConnectionRegistry(redis_client)


def register(registry: ConnectionRegistry, connection_id: str, user_id: str = "u1") -> None:
    registry.register(
        connection_id, user_id=user_id, email="ada@example.com", connected_at=1.5,
        rooms=["general", f"user:{user_id}"],
    )  # fmt: skip


def test_register_writes_the_hash_the_rooms_and_the_user_index_with_a_2h_ttl(
    registry: ConnectionRegistry, redis_client: redis.Redis
) -> None:
    register(registry, "c1")
    connection = registry.get("c1")
    assert connection is not None
    assert (connection.user_id, connection.email, connection.connected_at) == ("u1", "ada@example.com", 1.5)
    assert connection.rooms == {"general", "user:u1"}
    assert registry.members(["general", "user:u1"]) == {"general": {"c1"}, "user:u1": {"c1"}}
    assert registry.connections_of_user("u1") == {"c1"}
    for key in (keys.ws_connection("c1"), keys.ws_room("general"), keys.ws_user("u1")):
        assert 7_190 < redis_client.ttl(key) <= 7_200


def test_join_and_leave_update_both_sides(registry: ConnectionRegistry) -> None:
    register(registry, "c1")
    assert registry.join("c1", "chain:NIFTY")
    assert registry.rooms_of("c1") == {"general", "user:u1", "chain:NIFTY"}
    assert registry.leave("c1", "chain:NIFTY")
    assert not registry.leave("c1", "chain:NIFTY")
    assert registry.members(["chain:NIFTY"]) == {"chain:NIFTY": set()}
    assert registry.rooms_of("c1") == {"general", "user:u1"}


def test_an_unregistered_connection_cannot_join_a_room(
    registry: ConnectionRegistry, redis_client: redis.Redis
) -> None:
    assert not registry.join("ghost", "product:NIFTY")
    assert not redis_client.exists(keys.ws_room("product:NIFTY"), keys.ws_connection("ghost"))


def test_remove_leaves_every_room_and_the_user_index_and_nothing_else(
    registry: ConnectionRegistry, redis_client: redis.Redis
) -> None:
    register(registry, "c1")
    register(registry, "c2")
    registry.join("c1", "product:NIFTY")
    assert registry.remove("c1")
    assert registry.get("c1") is None
    assert registry.members(["general", "product:NIFTY", "user:u1"]) == {
        "general": {"c2"}, "product:NIFTY": set(), "user:u1": {"c2"},
    }  # fmt: skip
    assert not registry.remove("c1")


def test_remove_many_also_clears_rooms_named_for_an_expired_connection(
    registry: ConnectionRegistry, redis_client: redis.Redis
) -> None:
    register(registry, "c1")
    redis_client.sadd(keys.ws_room("general"), "orphan")  # its hash expired, its membership did not
    assert registry.remove_many([("orphan", ["general"]), ("c1", [])]) == 1
    assert registry.members(["general"]) == {"general": set()}


def test_greet_answers_the_rooms_once(registry: ConnectionRegistry, redis_client: redis.Redis) -> None:
    register(registry, "c1")
    assert registry.greet("c1") == {"general", "user:u1"}
    assert registry.greet("c1") is None
    assert registry.greet("ghost") is None
    assert not redis_client.exists(keys.ws_connection("ghost"))
