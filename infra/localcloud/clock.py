"""Time, as the local cloud's schedulers and pollers see it.

Everything that waits (the schedule runner, the Kinesis pollers) reads the time and sleeps through a
:class:`Clock`, never through :mod:`time` directly, so that:

- ``localcloud up`` runs on :class:`SystemClock`;
- a demo can replay a trading day in minutes on :class:`AcceleratedClock` (``speed`` × real time);
- tests drive :class:`ManualClock` and never really sleep.

All datetimes are timezone-aware UTC. ``monotonic()`` is in seconds of the clock's own time
(virtual seconds for the accelerated and manual clocks), so ``sleep(x)`` lasts ``x`` of those seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["AcceleratedClock", "Clock", "ManualClock", "SystemClock", "as_utc"]


class Clock(Protocol):
    """A source of time that can also be slept on."""

    def now(self) -> datetime:
        """The current time: timezone-aware, UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (the same time scale as :meth:`now`)."""
        ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait ``seconds``; return ``False`` at once if ``stop`` is (or becomes) set first."""
        ...


def as_utc(moment: datetime) -> datetime:
    """``moment`` converted to UTC; a naive datetime is an error (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


class SystemClock:
    """Real time: ``datetime.now(UTC)``, ``time.monotonic()``, and an interruptible sleep."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            if seconds > 0:
                time.sleep(seconds)
            return True
        if stop.is_set():
            return False
        return not stop.wait(max(seconds, 0.0))


class AcceleratedClock:
    """Virtual time running ``speed`` times faster than real time from the moment it is created.

    ``now() = start + real_elapsed × speed``; ``monotonic()`` counts virtual seconds from 0;
    ``sleep(s)`` lasts ``s / speed`` real seconds. ``start`` defaults to the real current time, so
    ``AcceleratedClock(1.0)`` behaves like :class:`SystemClock`.
    """

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        if not speed > 0:  # also rejects NaN
            raise ValueError(f"AcceleratedClock speed must be > 0, got {speed!r}")
        self.speed = float(speed)
        self.start = as_utc(start) if start is not None else datetime.now(UTC)
        self._real_origin = time.monotonic()

    def monotonic(self) -> float:
        return (time.monotonic() - self._real_origin) * self.speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        return SystemClock().sleep(seconds / self.speed, stop)


class ManualClock:
    """A clock that moves only when told to: for deterministic tests.

    Two ways to sleep, chosen at construction:

    - ``auto_advance=True`` (default): ``sleep(s)`` advances the clock by ``s`` at once and returns
      ``True`` (``False``, without advancing, if ``stop`` is already set). A polling loop then runs
      as fast as the CPU allows through virtual time, so a test of "retry after 1 s, three times"
      takes microseconds. Suited to a single loop driven to completion (a Kinesis poller test).
    - ``auto_advance=False``: ``sleep(s)`` blocks until other threads have :meth:`advance`-d the clock
      by ``s`` (or ``stop`` is set). The test thread is then the only thing moving time, which is what
      a background thread such as the schedule runner needs: with auto-advance it would race ahead
      through virtual years.

    ``advance`` and ``set`` are thread-safe and wake every blocked sleeper. A blocking sleep measures
    from the moment it is called, so a test that advances the clock before a background thread has
    gone to sleep would make it oversleep: call :meth:`wait_for_sleepers` first.
    """

    # How often a blocked sleeper looks at its stop event: a stop event cannot be waited on together
    # with the clock's condition, so stop() is noticed within this many real seconds.
    _STOP_POLL_S = 0.005

    def __init__(self, start: datetime, *, auto_advance: bool = True) -> None:
        self._now = as_utc(start)
        self._elapsed = 0.0
        self.auto_advance = auto_advance
        self._changed = threading.Condition()
        self._sleepers = 0  # threads blocked in sleep() (auto_advance=False)

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def monotonic(self) -> float:
        with self._changed:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (>= 0) and wake sleepers."""
        if seconds < 0:
            raise ValueError(f"ManualClock cannot go backwards (advance({seconds!r}))")
        with self._changed:
            self._now += timedelta(seconds=seconds)
            self._elapsed += seconds
            self._changed.notify_all()

    def set(self, moment: datetime) -> None:
        """Move the clock forward to ``moment`` (not before the current time)."""
        moment = as_utc(moment)
        with self._changed:
            delta = (moment - self._now).total_seconds()
        self.advance(delta)

    def wait_for_sleepers(self, count: int = 1, timeout: float | None = 2.0) -> bool:
        """Block until at least ``count`` threads are asleep on this clock (``auto_advance=False``).

        Returns ``False`` on timeout. Once it returns ``True`` the next :meth:`advance` is seen by
        those sleepers.
        """
        with self._changed:
            return self._changed.wait_for(lambda: self._sleepers >= count, timeout)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is not None and stop.is_set():
            return False
        if self.auto_advance:
            self.advance(max(seconds, 0.0))
            return True
        with self._changed:
            wake_at = self._elapsed + max(seconds, 0.0)
            self._sleepers += 1
            self._changed.notify_all()
            try:
                while self._elapsed < wake_at:
                    if stop is not None and stop.is_set():
                        return False
                    self._changed.wait(self._STOP_POLL_S if stop is not None else None)
            finally:
                self._sleepers -= 1
        return True
