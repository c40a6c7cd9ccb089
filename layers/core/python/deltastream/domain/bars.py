"""OHLC bars built incrementally from ticks, mergeable in any order.

Timestamps are timezone-aware :class:`datetime.datetime` values; they are normalised to UTC and
naive datetimes are rejected (the stream's ``ts`` is ISO-8601 UTC: parse it with
``datetime.fromisoformat``). A bar of ``window_minutes`` covers the half-open interval
[start, start + window) with ``start`` floored to a multiple of the window since the Unix epoch, so
1, 5 and 15 minute bars line up with clock minutes and quarter hours.

Order of ticks: ``open`` is the price of the earliest tick and ``close`` the price of the latest,
by timestamp. Ticks with the same timestamp are ordered by price (the lower price first), a
deterministic tie-break that keeps :func:`merge` associative and commutative, so a bar does not
depend on the order in which ticks or partial bars arrive. ``update(bar, tick)`` is exactly
``merge(bar, bar_from_tick(tick))``.

Not idempotent: replaying a tick leaves open/high/low/close unchanged but counts it again in
``ticks``; de-duplicate deliveries (e.g. by ``tick_id``) before updating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["WINDOWS", "Bar", "bar_from_tick", "bar_start", "merge", "update"]

#: Bar lengths, in minutes, that the platform maintains (``"1m"``, ``"5m"``, ``"15m"``).
WINDOWS: tuple[int, ...] = (1, 5, 15)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _as_utc(ts: datetime, name: str = "ts") -> datetime:
    if not isinstance(ts, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(ts).__name__}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {ts.isoformat()}")
    return ts.astimezone(UTC)


def _check_window(window_minutes: int) -> int:
    if isinstance(window_minutes, bool) or not isinstance(window_minutes, int) or window_minutes <= 0:
        raise ValueError(f"window_minutes must be a positive integer, got {window_minutes!r}")
    return window_minutes


def _check_price(price: float) -> float:
    value = float(price)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"price must be a finite positive number, got {price!r}")
    return value


def bar_start(ts: datetime, window_minutes: int) -> datetime:
    """Start (UTC) of the ``window_minutes`` bar containing ``ts``: ts floored to the window.

    Exact (integer microsecond arithmetic). A tick exactly on a boundary opens the new bar.
    """
    window = timedelta(minutes=_check_window(window_minutes))
    since_epoch = _as_utc(ts) - _EPOCH
    return _EPOCH + (since_epoch // window) * window


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC bar.

    ``window_minutes``: bar length; ``start``: UTC start of the window (aware datetime);
    ``open``/``high``/``low``/``close``: prices in the underlying's currency units;
    ``ticks``: number of ticks folded in; ``first_ts``/``last_ts``: UTC timestamps of the
    earliest and latest tick, kept so that merging partial bars picks open and close correctly.
    """

    window_minutes: int
    start: datetime
    open: float
    high: float
    low: float
    close: float
    ticks: int
    first_ts: datetime
    last_ts: datetime

    def __post_init__(self) -> None:
        _check_window(self.window_minutes)
        for name in ("start", "first_ts", "last_ts"):
            value = _as_utc(getattr(self, name), name)  # rejects naive datetimes
            if getattr(self, name).utcoffset() != value.utcoffset():
                raise ValueError(f"{name} must be in UTC")
        if bar_start(self.start, self.window_minutes) != self.start:
            raise ValueError(
                f"start {self.start.isoformat()} is not on a {self.window_minutes}-minute boundary"
            )
        end = self.start + timedelta(minutes=self.window_minutes)
        if not self.start <= self.first_ts <= self.last_ts < end:
            raise ValueError("need start ≤ first_ts ≤ last_ts < start + window")
        for price in (self.open, self.high, self.low, self.close):
            _check_price(price)
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            raise ValueError("need low ≤ open, close ≤ high")
        if self.ticks < 1:
            raise ValueError("a bar holds at least one tick")

    @property
    def end(self) -> datetime:
        """Exclusive end of the bar's window (UTC)."""
        return self.start + timedelta(minutes=self.window_minutes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: timestamps as ISO-8601 UTC strings, prices as floats."""
        return {
            "window": self.window_minutes,
            "start": self.start.isoformat(),
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "ticks": self.ticks,
            "first_ts": self.first_ts.isoformat(),
            "last_ts": self.last_ts.isoformat(),
        }


def bar_from_tick(price: float, ts: datetime, window_minutes: int) -> Bar:
    """A one-tick bar: open = high = low = close = ``price``; ``price`` must be finite and > 0."""
    value = _check_price(price)
    utc = _as_utc(ts)
    return Bar(
        window_minutes=window_minutes,
        start=bar_start(utc, window_minutes),
        open=value,
        high=value,
        low=value,
        close=value,
        ticks=1,
        first_ts=utc,
        last_ts=utc,
    )


def merge(a: Bar, b: Bar) -> Bar:
    """Combine two partial bars of the same window and start into one.

    high/low are the extremes, ticks add up, open comes from the earliest tick and close from the
    latest (equal timestamps: lower price first). Associative and commutative.
    Raises ValueError when the windows or starts differ.
    """
    if a.window_minutes != b.window_minutes or a.start != b.start:
        raise ValueError(
            f"cannot merge a {a.window_minutes}m bar at {a.start.isoformat()} "
            f"with a {b.window_minutes}m bar at {b.start.isoformat()}"
        )
    first_ts, open_price = min((a.first_ts, a.open), (b.first_ts, b.open))
    last_ts, close_price = max((a.last_ts, a.close), (b.last_ts, b.close))
    return Bar(
        window_minutes=a.window_minutes,
        start=a.start,
        open=open_price,
        high=max(a.high, b.high),
        low=min(a.low, b.low),
        close=close_price,
        ticks=a.ticks + b.ticks,
        first_ts=first_ts,
        last_ts=last_ts,
    )


def update(bar: Bar | None, price: float, ts: datetime, window_minutes: int) -> Bar:
    """Fold one tick into the current bar and return the bar it now belongs to.

    - ``bar is None``, or the tick falls in a later window: a new one-tick bar is returned. The
      caller knows ``bar`` is finished when ``result.start != bar.start`` and stores it then.
    - Same window: ``merge(bar, bar_from_tick(price, ts, window_minutes))``; a tick earlier than
      ``bar.first_ts`` but inside the window is fine (it becomes the open).
    - Raises ValueError for a bad price (≤ 0, NaN, inf), a naive timestamp, a window different from
      ``bar.window_minutes``, or a tick from an earlier window (update that stored bar instead).
    """
    tick_bar = bar_from_tick(price, ts, window_minutes)
    if bar is None:
        return tick_bar
    if bar.window_minutes != window_minutes:
        raise ValueError(f"tick for a {window_minutes}m bar given a {bar.window_minutes}m bar")
    if tick_bar.start > bar.start:
        return tick_bar
    if tick_bar.start < bar.start:
        raise ValueError(
            f"tick at {tick_bar.first_ts.isoformat()} is older than the bar starting {bar.start.isoformat()}"
        )
    return merge(bar, tick_bar)


@dataclass(frozen=True, slots=True)
class Fold:
    """What :func:`fold` made of a run of ticks.

    ``states[i]`` is the bar tick ``i`` leaves current, as :meth:`Bar.as_dict` (for a late tick,
    older than the current bar's window, the current bar unchanged: bars never reopen);
    ``finished`` the bars whose window ended during the run, oldest first; ``current`` the bar
    after the last tick.
    """

    states: list[dict[str, Any]]
    finished: list[Bar]
    current: Bar | None


class _Running:
    """The current bar of a fold as plain values (a Bar is built only when it is handed out)."""

    __slots__ = (
        "c",
        "end",
        "first_iso",
        "first_ts",
        "h",
        "last_ts",
        "lo",
        "n",
        "o",
        "start",
        "start_iso",
        "window",
    )

    def __init__(self, window: int, price: float, ts: datetime) -> None:
        self.window = window
        self.start = bar_start(ts, window)
        self.end = self.start + timedelta(minutes=window)
        self.start_iso = self.start.isoformat()
        self.o = self.h = self.lo = self.c = price
        self.n = 1
        self.first_ts = self.last_ts = ts
        self.first_iso = ts.isoformat()

    @classmethod
    def from_bar(cls, bar: Bar) -> _Running:
        running = cls(bar.window_minutes, bar.open, bar.first_ts)
        running.h, running.lo, running.c, running.n = bar.high, bar.low, bar.close, bar.ticks
        running.last_ts = bar.last_ts
        return running

    def absorb(self, price: float, ts: datetime) -> None:
        """Same rules as :func:`merge`: extremes, count, open/close by timestamp then price."""
        self.n += 1
        self.h = max(self.h, price)
        self.lo = min(self.lo, price)
        if (ts, price) < (self.first_ts, self.o):
            self.first_ts, self.o = ts, price
            self.first_iso = ts.isoformat()
        if (ts, price) > (self.last_ts, self.c):
            self.last_ts, self.c = ts, price

    def to_bar(self) -> Bar:
        return Bar(
            self.window, self.start, self.o, self.h, self.lo, self.c, self.n, self.first_ts, self.last_ts
        )

    def state(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "start": self.start_iso,
            "open": self.o,
            "high": self.h,
            "low": self.lo,
            "close": self.c,
            "ticks": self.n,
            "first_ts": self.first_iso,
            "last_ts": self.last_ts.isoformat(),
        }


def fold(
    bar: Bar | None, prices: Sequence[float], timestamps: Sequence[datetime], window_minutes: int
) -> Fold:
    """Fold a run of ticks into ``bar`` at once: the same bars as calling :func:`update` tick by tick
    (a late tick is skipped instead of raising), without building a :class:`Bar` per tick.

    For a batch of ticks this is the fast path: one Bar per window boundary, plain arithmetic per
    tick. Open/close follow :func:`merge`'s rule (earliest / latest timestamp, ties by price).
    """
    _check_window(window_minutes)
    if len(prices) != len(timestamps):
        raise ValueError(f"{len(prices)} prices for {len(timestamps)} timestamps")
    if bar is not None and bar.window_minutes != window_minutes:
        raise ValueError(f"ticks for a {window_minutes}m bar given a {bar.window_minutes}m bar")
    running = _Running.from_bar(bar) if bar is not None else None
    state = bar.as_dict() if bar is not None else None
    finished: list[Bar] = []
    states: list[dict[str, Any]] = []
    for raw_price, raw_ts in zip(prices, timestamps, strict=True):
        price, ts = _check_price(raw_price), _as_utc(raw_ts)
        if running is not None and ts < running.start:
            states.append(state if state is not None else running.state())  # late: bars never reopen
            continue
        if running is None or ts >= running.end:
            if running is not None:
                finished.append(running.to_bar())
            running = _Running(window_minutes, price, ts)
        else:
            running.absorb(price, ts)
        state = running.state()
        states.append(state)
    return Fold(states=states, finished=finished, current=running.to_bar() if running is not None else None)
