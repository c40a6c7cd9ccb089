"""Storage steps ride out transient errors until the invocation's deadline, and no longer."""

from __future__ import annotations

import pytest
import redis.exceptions

from deltastream.services.retry import Retrier


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.slept: list[float] = []

    def time_left(self) -> float:
        return self.left

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.left -= seconds


def test_a_transient_error_is_retried_until_the_operation_succeeds() -> None:
    clock = Deadline(60)
    failures: list[Exception] = [
        redis.exceptions.ConnectionError("down"),
        redis.exceptions.TimeoutError("slow"),
    ]

    def operation() -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    assert Retrier(clock.time_left, sleep=clock.sleep)(operation, "reading") == "ok"
    assert len(clock.slept) == 2
    assert clock.slept[1] > clock.slept[0] * 0.9  # backing off


def test_a_data_error_is_not_retried() -> None:
    clock = Deadline(60)
    calls = []

    def operation() -> None:
        calls.append(1)
        raise ValueError("bad document")

    with pytest.raises(ValueError, match="bad document"):
        Retrier(clock.time_left, sleep=clock.sleep)(operation, "writing")
    assert calls == [1]


def test_retrying_stops_before_the_deadline_reserve_and_reraises() -> None:
    clock = Deadline(8)

    def operation() -> None:
        raise redis.exceptions.ConnectionError("still down")

    with pytest.raises(redis.exceptions.ConnectionError):
        Retrier(clock.time_left, reserve_s=5, sleep=clock.sleep)(operation, "writing")
    assert clock.left >= 5  # the reserve is left for Lambda to report the failure
    assert clock.slept  # it did retry while there was time
