"""Timing primitives shared by the benchmarks: repeated samples with ``time.perf_counter``."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds per call: ``repeats`` samples, each the mean of ``number`` back-to-back calls."""

    samples: tuple[float, ...]
    number: int

    @property
    def min(self) -> float:
        """Best sample: the customary estimate of what the code costs without interference."""
        return min(self.samples)

    @property
    def median(self) -> float:
        """Median sample: what a caller typically sees on this (shared) machine."""
        return statistics.median(self.samples)

    def describe(self) -> str:
        """``min / median`` per call, with the sampling plan."""
        return (
            f"min {format_seconds(self.min)}, median {format_seconds(self.median)} "
            f"({_plural(len(self.samples), 'repeat')} x {_plural(self.number, 'call')})"
        )


def measure(fn: Callable[[], object], *, repeats: int, number: int = 1, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then time ``repeats`` samples of ``number`` calls each.

    The garbage collector is off while a sample runs (as in ``timeit``), so a collection triggered
    by earlier allocations is not charged to whichever call happens to trip it. (It is not run
    between samples either: a full collection there made the next 100,000-option call slower.)
    """
    for _ in range(warmup):
        fn()
    samples = []
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            gc.disable()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
            if gc_was_enabled:
                gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(samples=tuple(samples), number=number)


def format_seconds(seconds: float) -> str:
    """A duration with a unit that keeps three significant figures readable (ns to s)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_rate(per_second: float, unit: str = "options/s") -> str:
    """A throughput in millions (``12.3 M options/s``) or thousands when small."""
    if per_second >= 1e6:
        return f"{per_second / 1e6:.3g} M {unit}"
    return f"{per_second / 1e3:.3g} k {unit}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
