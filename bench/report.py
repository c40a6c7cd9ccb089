"""Result records and the summary table printed at the end of ``python -m bench``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Check:
    """One target: our figure, the peer's figure and their ratio (when there is a peer), and whether
    the target is met. Figures are pre-formatted strings; ``passed`` is None for information rows."""

    measure: str
    ours: str
    target: str
    passed: bool | None
    peer: str = ""
    ratio: str = ""


@dataclass(slots=True)
class Section:
    """What one benchmark returns: its checks for the summary table."""

    name: str
    checks: list[Check] = field(default_factory=list)


_COLUMNS = ("benchmark", "measure", "ours", "peer", "ratio", "target", "result")


def _status(passed: bool | None) -> str:
    return "info" if passed is None else ("PASS" if passed else "MISS")


def render_table(sections: Sequence[Section]) -> str:
    """A fixed-width table, one row per check, benchmarks in run order."""
    rows = [
        (section.name, c.measure, c.ours, c.peer or "-", c.ratio or "-", c.target or "-", _status(c.passed))
        for section in sections
        for c in section.checks
    ]
    widths = [max(len(str(row[i])) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_COLUMNS, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def summary_line(sections: Sequence[Section]) -> str:
    """``SUMMARY: n/m targets met`` and the names of the missed ones."""
    checks = [(s.name, c) for s in sections for c in s.checks if c.passed is not None]
    missed = [f"{name}: {c.measure}" for name, c in checks if not c.passed]
    line = f"SUMMARY: {len(checks) - len(missed)}/{len(checks)} targets met"
    return line + (f"; MISSED: {'; '.join(missed)}" if missed else "")
