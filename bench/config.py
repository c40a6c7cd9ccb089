"""Run-wide settings: how many repeats a benchmark takes in a full or a ``--quick`` run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Config:
    """``quick`` trades precision for time (fewer repeats, smallest peers skipped where slow)."""

    quick: bool = False

    def repeats(self, full: int, quick: int = 3) -> int:
        """Number of timed samples: ``full`` normally, ``quick`` under ``--quick``."""
        return quick if self.quick else full


def heading(title: str) -> None:
    """Print a benchmark's heading (details follow it as the benchmark runs)."""
    print(f"\n== {title} ==", flush=True)


def detail(text: str) -> None:
    """Print one indented detail line immediately (long benchmarks show progress)."""
    print(f"  {text}", flush=True)
