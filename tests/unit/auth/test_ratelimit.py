"""Failed-login throttling: fixed windows per email and per source IP."""

from __future__ import annotations

import pytest

from deltastream.api.errors import TooManyRequests
from deltastream.auth.memory import MemoryFailureCounters
from deltastream.auth.ratelimit import LoginThrottle
from tests.unit.auth.conftest import Clock


@pytest.fixture
def throttle(counters: MemoryFailureCounters) -> LoginThrottle:
    return LoginThrottle(counters, window_s=900, max_per_email=5, max_per_ip=20)


def test_five_failures_block_the_email_until_the_window_ends(throttle: LoginThrottle, clock: Clock) -> None:
    # GIVEN five failures, the first 100 s before the last
    throttle.record_failure("ada@x.io", "1.1.1.1")
    clock.advance(100)
    for _ in range(4):
        throttle.check("ada@x.io", "1.1.1.1")
        throttle.record_failure("ada@x.io", "1.1.1.1")
    # THEN the next attempt is refused, told to come back when the window (opened at the first) ends
    with pytest.raises(TooManyRequests) as raised:
        throttle.check("ada@x.io", "2.2.2.2")
    assert raised.value.status == 429
    assert raised.value.headers == {"Retry-After": "800"}
    # AND other emails are not affected
    throttle.check("bob@x.io", "3.3.3.3")
    # AND the window's end lets the email try again
    clock.advance(800)
    throttle.check("ada@x.io", "1.1.1.1")


def test_twenty_failures_from_one_ip_block_it_for_any_email(throttle: LoginThrottle) -> None:
    for n in range(20):
        throttle.record_failure(f"user{n}@x.io", "9.9.9.9")
    with pytest.raises(TooManyRequests):
        throttle.check("new@x.io", "9.9.9.9")
    throttle.check("new@x.io", "8.8.8.8")


def test_a_success_clears_the_email_but_not_the_ip(
    throttle: LoginThrottle, counters: MemoryFailureCounters
) -> None:
    for _ in range(4):
        throttle.record_failure("ada@x.io", "1.1.1.1")
    throttle.record_success("ada@x.io")
    assert counters.peek("ds:auth:fail:email:ada@x.io").value == 0
    assert counters.peek("ds:auth:fail:ip:1.1.1.1").value == 4


def test_no_source_ip_counts_the_email_only(throttle: LoginThrottle, counters: MemoryFailureCounters) -> None:
    throttle.record_failure("ada@x.io", None)
    assert counters.peek("ds:auth:fail:email:ada@x.io").value == 1
