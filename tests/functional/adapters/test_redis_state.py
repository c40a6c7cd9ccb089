"""RedisFeedState against a real Redis: atomic tick ids, state with a TTL, and the feed lease."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from deltastream.adapters import redis_keys, redis_state
from deltastream.adapters.redis_state import RedisFeedState


@pytest.fixture
def feed_state(redis_client: redis.Redis) -> RedisFeedState:
    return RedisFeedState(redis_client)


def test_tick_ids_start_at_one_and_continue_across_calls(feed_state: RedisFeedState) -> None:
    assert feed_state.next_tick_ids("NIFTY", 3) == range(1, 4)
    assert feed_state.next_tick_ids("NIFTY", 2) == range(4, 6)
    assert feed_state.next_tick_ids("TSLA", 1) == range(1, 2)  # one counter per product
    assert feed_state.next_tick_ids("NIFTY", 0) == range(0)


def test_tick_ids_are_unique_and_gapless_under_concurrency(
    redis_url: str, feed_state: RedisFeedState
) -> None:
    # GIVEN 8 workers, each with its own client (as overlapping invocations would have)
    def reserve(worker: int) -> list[range]:
        own = RedisFeedState(redis_state.redis_client(redis_url))
        return [own.next_tick_ids("NIFTY", 1 + (worker + i) % 3) for i in range(100)]

    # WHEN each reserves 100 ranges of 1 to 3 ids at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        reservations = [r for ranges in pool.map(reserve, range(8)) for r in ranges]
    # THEN every id was handed out exactly once, and none was skipped
    ids = [i for r in reservations for i in r]
    assert len(reservations) == 800
    assert len(ids) == len(set(ids))
    assert sorted(ids) == list(range(1, len(ids) + 1))
    assert feed_state.next_tick_ids("NIFTY", 1) == range(len(ids) + 1, len(ids) + 2)


def test_a_negative_count_is_refused(feed_state: RedisFeedState) -> None:
    with pytest.raises(ValueError, match="count"):
        feed_state.next_tick_ids("NIFTY", -1)


def test_state_round_trips_with_its_ttl(feed_state: RedisFeedState, redis_client: redis.Redis) -> None:
    # GIVEN no saved state
    assert feed_state.load("NIFTY") is None
    # WHEN a state is saved
    state = {"spot": 21543.25, "chains": {"2024-07-04": {"iv": [0.12, 0.13]}}, "tick": 7}
    feed_state.save("NIFTY", state)
    # THEN it loads back equal, and expires after a week
    assert feed_state.load("NIFTY") == state
    ttl = redis_client.ttl(redis_keys.feed_state("NIFTY"))
    assert redis_keys.FEED_STATE_TTL_S - 5 <= ttl <= redis_keys.FEED_STATE_TTL_S


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]"])
def test_an_unreadable_state_loads_as_none(
    feed_state: RedisFeedState, redis_client: redis.Redis, raw: bytes
) -> None:
    redis_client.set(redis_keys.feed_state("NIFTY"), raw)
    assert feed_state.load("NIFTY") is None


def test_the_lease_is_exclusive(feed_state: RedisFeedState) -> None:
    assert feed_state.acquire_lease("invocation-a", 30)
    assert not feed_state.acquire_lease("invocation-b", 30)
    assert not feed_state.acquire_lease("invocation-a", 30)  # not re-entrant: renew instead


def test_only_the_owner_renews_the_lease(feed_state: RedisFeedState, redis_client: redis.Redis) -> None:
    # GIVEN a short lease held by a
    assert feed_state.acquire_lease("invocation-a", 1)
    # WHEN b and then a try to extend it
    assert not feed_state.renew_lease("invocation-b", 60)
    assert redis_client.pttl(redis_keys.FEED_LEASE) <= 1000
    assert feed_state.renew_lease("invocation-a", 60)
    # THEN only a's renewal took
    assert redis_client.pttl(redis_keys.FEED_LEASE) > 50_000


def test_only_the_owner_releases_the_lease(feed_state: RedisFeedState) -> None:
    assert feed_state.acquire_lease("invocation-a", 30)
    assert not feed_state.release_lease("invocation-b")
    assert not feed_state.acquire_lease("invocation-b", 30)  # still a's
    assert feed_state.release_lease("invocation-a")
    assert not feed_state.release_lease("invocation-a")  # nothing left to release
    assert feed_state.acquire_lease("invocation-b", 30)


def test_an_expired_lease_passes_to_the_next_invocation(feed_state: RedisFeedState) -> None:
    # GIVEN a lease its owner stopped renewing
    assert feed_state.acquire_lease("invocation-a", 0.1)
    time.sleep(0.25)
    # WHEN another invocation asks
    assert feed_state.acquire_lease("invocation-b", 30)
    # THEN the former owner can neither renew nor release the new owner's lease
    assert not feed_state.renew_lease("invocation-a", 30)
    assert not feed_state.release_lease("invocation-a")
    assert not feed_state.acquire_lease("invocation-c", 30)


def test_a_lease_needs_a_positive_ttl(feed_state: RedisFeedState) -> None:
    with pytest.raises(ValueError, match="TTL"):
        feed_state.acquire_lease("invocation-a", 0)


def test_the_client_speaks_bytes(redis_client: redis.Redis) -> None:
    redis_client.set("ds:test", "é")
    assert redis_client.get("ds:test") == "é".encode()
