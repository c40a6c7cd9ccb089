"""Fixtures of the auth unit tests: a controllable clock, cheap argon2 parameters, in-memory stores
and the real user repository on in-process mongomock (no socket needed)."""

from __future__ import annotations

import mongomock
import pytest

from deltastream.adapters.mongo import MongomockCollections
from deltastream.auth.memory import MemoryFailureCounters, MemoryRefreshStore, MemoryRevocations
from deltastream.auth.passwords import Passwords
from deltastream.auth.ratelimit import LoginThrottle
from deltastream.auth.secrets import StaticKey, signing_key
from deltastream.auth.service import AuthService
from deltastream.auth.tokens import AccessTokens
from deltastream.auth.users import MongoUsers

SECRET = "unit-test-secret-0123456789-abcdefghij"
START = 1_700_000_000.0


class Clock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost_kib=1024)  # fast; the parameters are not under test here


@pytest.fixture
def access_tokens(clock: Clock) -> AccessTokens:
    return AccessTokens(StaticKey(signing_key(SECRET, source="test")), ttl_s=900, clock=clock)


@pytest.fixture
def users() -> MongoUsers:
    return MongoUsers(MongomockCollections(mongomock.MongoClient(tz_aware=True)["deltastream"]))


@pytest.fixture
def refresh_store(clock: Clock) -> MemoryRefreshStore:
    return MemoryRefreshStore(clock)


@pytest.fixture
def revocations(clock: Clock) -> MemoryRevocations:
    return MemoryRevocations(clock)


@pytest.fixture
def counters(clock: Clock) -> MemoryFailureCounters:
    return MemoryFailureCounters(clock)


@pytest.fixture
def service(
    users: MongoUsers,
    passwords: Passwords,
    access_tokens: AccessTokens,
    refresh_store: MemoryRefreshStore,
    revocations: MemoryRevocations,
    counters: MemoryFailureCounters,
    clock: Clock,
) -> AuthService:
    return AuthService(
        users=users,
        passwords=passwords,
        access_tokens=access_tokens,
        refresh_tokens=refresh_store,
        revocations=revocations,
        throttle=LoginThrottle(counters),
        refresh_ttl_s=3600,
        clock=clock,
    )
