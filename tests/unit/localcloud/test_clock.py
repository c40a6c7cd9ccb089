"""Clocks: real, accelerated and manual time, and sleeps that a stop event interrupts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from localcloud.clock import AcceleratedClock, Clock, ManualClock, SystemClock, as_utc

T0 = datetime(2024, 3, 1, 9, 15, tzinfo=UTC)


def test_every_clock_satisfies_the_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), AcceleratedClock(10.0), ManualClock(T0)]
    for clock in clocks:
        assert clock.now().tzinfo is UTC


def test_as_utc_converts_aware_and_rejects_naive() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    assert as_utc(datetime(2024, 3, 1, 14, 45, tzinfo=ist)) == T0
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2024, 3, 1))


def test_system_clock_sleep_returns_false_when_stop_is_already_set() -> None:
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    assert SystemClock().sleep(10.0, stop) is False
    assert time.monotonic() - started < 1.0


def test_system_clock_sleep_returns_true_after_the_time() -> None:
    assert SystemClock().sleep(0.001, threading.Event()) is True


def test_accelerated_clock_rejects_non_positive_speed() -> None:
    for speed in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="speed must be > 0"):
            AcceleratedClock(speed)


def test_accelerated_clock_runs_speed_times_faster_from_its_start() -> None:
    # GIVEN one virtual hour per real second
    clock = AcceleratedClock(3600.0, start=T0)
    # WHEN it sleeps 36 virtual seconds (10 ms real)
    started = time.monotonic()
    assert clock.sleep(36.0) is True
    real = time.monotonic() - started
    # THEN virtual time moved at least 36 s and the real wait was ~10 ms
    assert clock.monotonic() >= 36.0
    assert clock.now() >= T0 + timedelta(seconds=36)
    assert 0.009 <= real < 0.5


def test_accelerated_clock_sleep_is_interrupted_by_stop() -> None:
    clock = AcceleratedClock(1.0)
    stop = threading.Event()
    threading.Timer(0.01, stop.set).start()
    started = time.monotonic()
    assert clock.sleep(30.0, stop) is False
    assert time.monotonic() - started < 1.0


def test_manual_clock_advances_only_when_told() -> None:
    clock = ManualClock(T0)
    assert clock.now() == T0
    assert clock.monotonic() == 0.0
    clock.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)
    assert clock.monotonic() == 90.0
    clock.set(T0 + timedelta(hours=1))
    assert clock.monotonic() == 3600.0
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_manual_clock_auto_advance_sleep_moves_time_at_once() -> None:
    clock = ManualClock(T0)
    assert clock.sleep(2.5) is True
    assert clock.now() == T0 + timedelta(seconds=2.5)


def test_manual_clock_sleep_with_stop_set_neither_sleeps_nor_advances() -> None:
    clock = ManualClock(T0)
    stop = threading.Event()
    stop.set()
    assert clock.sleep(60, stop) is False
    assert clock.now() == T0


def test_manual_clock_blocking_sleep_waits_for_another_thread_to_advance() -> None:
    # GIVEN a blocking manual clock and a thread sleeping 60 s on it
    clock = ManualClock(T0, auto_advance=False)
    woke = threading.Event()
    sleeper = threading.Thread(target=lambda: woke.set() if clock.sleep(60) else None)
    sleeper.start()
    # WHEN the clock moves 59 s THEN the sleeper is still asleep
    clock.advance(59)
    assert not woke.wait(0.02)
    # WHEN it moves past 60 s THEN the sleeper wakes
    clock.advance(1)
    assert woke.wait(1.0)
    sleeper.join(1.0)


def test_manual_clock_blocking_sleep_is_interrupted_by_stop() -> None:
    clock = ManualClock(T0, auto_advance=False)
    stop = threading.Event()
    result: list[bool] = []
    sleeper = threading.Thread(target=lambda: result.append(clock.sleep(3600, stop)))
    sleeper.start()
    stop.set()
    sleeper.join(1.0)
    assert result == [False]
    assert clock.now() == T0


def test_manual_clock_wait_for_sleepers_sees_a_blocked_sleeper() -> None:
    clock = ManualClock(T0, auto_advance=False)
    assert clock.wait_for_sleepers(1, timeout=0.001) is False
    sleeper = threading.Thread(target=clock.sleep, args=(10,))
    sleeper.start()
    assert clock.wait_for_sleepers(1)
    clock.advance(10)
    sleeper.join(1.0)
    assert not sleeper.is_alive()
