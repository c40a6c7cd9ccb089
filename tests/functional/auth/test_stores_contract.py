"""The Redis stores and their in-memory counterparts honour the same contract (so unit tests on the
in-memory ones say something about production)."""

from __future__ import annotations

import time

import pytest
import redis

from deltastream.auth.memory import MemoryFailureCounters, MemoryRefreshStore, MemoryRevocations
from deltastream.auth.ports import FailureCounters, Live, RefreshRecord, RefreshStore, Reused, Revocations
from deltastream.auth.redis_store import RedisFailureCounters, RedisRefreshStore, RedisRevocations

BACKENDS = ["memory", "redis"]


def record(token_id: str, family: str = "f1", ttl_s: int = 600) -> RefreshRecord:
    return RefreshRecord(token_id=token_id, user_id="u1", family=family, expires_at=int(time.time()) + ttl_s)


@pytest.fixture(params=BACKENDS)
def refresh_store(request: pytest.FixtureRequest) -> RefreshStore:
    if request.param == "memory":
        return MemoryRefreshStore()
    return RedisRefreshStore(request.getfixturevalue("redis_client"))


@pytest.fixture(params=BACKENDS)
def revocations(request: pytest.FixtureRequest) -> Revocations:
    if request.param == "memory":
        return MemoryRevocations()
    return RedisRevocations(request.getfixturevalue("redis_client"))


@pytest.fixture(params=BACKENDS)
def counters(request: pytest.FixtureRequest) -> FailureCounters:
    if request.param == "memory":
        return MemoryFailureCounters()
    return RedisFailureCounters(request.getfixturevalue("redis_client"))


def test_a_token_is_consumed_once_then_reported_as_reused(refresh_store: RefreshStore) -> None:
    assert refresh_store.issue(record("t1"), new_family=True)
    assert refresh_store.consume("t1") == Live(record("t1"))
    assert refresh_store.consume("t1") == Reused("f1")
    assert refresh_store.family_of("t1") == "f1"
    assert refresh_store.consume("never") is None


def test_rotation_into_a_revoked_family_is_refused(refresh_store: RefreshStore) -> None:
    refresh_store.issue(record("t1"), new_family=True)
    refresh_store.issue(record("t2"), new_family=False)
    refresh_store.revoke_family("f1")
    assert refresh_store.consume("t2") is None
    assert not refresh_store.issue(record("t3"), new_family=False)
    assert refresh_store.consume("t3") is None


def test_revoking_a_family_leaves_other_families_alone(refresh_store: RefreshStore) -> None:
    refresh_store.issue(record("a", family="fa"), new_family=True)
    refresh_store.issue(record("b", family="fb"), new_family=True)
    refresh_store.revoke_family("fa")
    assert refresh_store.consume("a") is None
    assert isinstance(refresh_store.consume("b"), Live)


def test_the_redis_store_keeps_only_hashed_ids_with_ttls(redis_client: redis.Redis) -> None:
    store = RedisRefreshStore(redis_client)
    store.issue(record("abc", ttl_s=600), new_family=True)
    assert 590 <= redis_client.ttl("ds:auth:refresh:abc") <= 600
    assert 590 <= redis_client.ttl("ds:auth:family:f1") <= 600
    store.consume("abc")
    assert redis_client.exists("ds:auth:refresh:abc") == 0
    assert 590 <= redis_client.ttl("ds:auth:rotated:abc") <= 600


def test_a_revocation_is_seen_until_it_expires(revocations: Revocations) -> None:
    assert not revocations.is_revoked("j1")
    revocations.revoke("j1", 60)
    assert revocations.is_revoked("j1")
    assert not revocations.is_revoked("j2")


def test_counters_count_within_one_window(counters: FailureCounters) -> None:
    assert counters.peek("k").value == 0
    first = counters.increment("k", 900)
    second = counters.increment("k", 900)
    assert (first.value, second.value) == (1, 2)
    assert 898 <= second.resets_in_s <= 900
    assert counters.peek("k").value == 2
    counters.clear("k")
    assert counters.peek("k").value == 0
