"""Cold import time of ``deltastream.domain.pricing``: what a Lambda cold start pays for the module.

Each run is a fresh interpreter (``sys.executable``), timing the import alone with
``time.perf_counter`` inside it, so interpreter start-up is excluded (and printed separately). The
OS page cache and ``__pycache__`` are warm after the first run, as on a warm host; a truly cold
Lambda sandbox reads the files from disk too, so this is a lower bound. A separate set of runs with
``-X importtime`` gives the per-module breakdown (its own overhead inflates those figures a little).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

from bench.config import Config, detail, heading
from bench.report import Check, Section
from bench.timing import format_seconds

MODULE = "deltastream.domain.pricing"
TARGET = 0.400  # s
_TIMED_IMPORT = f"import time\nt0 = time.perf_counter()\nimport {MODULE}\nprint(time.perf_counter() - t0)"


@dataclass(frozen=True, slots=True)
class ImportLine:
    """One ``-X importtime`` line: self and cumulative microseconds, module name, nesting depth."""

    self_us: int
    cumulative_us: int
    name: str
    depth: int


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)


def timed_import() -> float:
    """Seconds spent in ``import MODULE`` in a fresh interpreter."""
    return float(_python("-c", _TIMED_IMPORT).stdout.strip())


def interpreter_startup() -> float:
    """Wall-clock seconds of ``python -c pass`` seen from here (the part excluded above)."""
    start = time.perf_counter()
    _python("-c", "pass")
    return time.perf_counter() - start


def parse_importtime(stderr: str) -> list[ImportLine]:
    """Parse ``-X importtime`` output (``import time: self | cumulative | name``, indented by depth)."""
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        self_us, cumulative_us, name = raw.removeprefix("import time:").split("|")
        stripped = name.lstrip()
        depth = (len(name) - len(stripped) - 1) // 2
        lines.append(ImportLine(int(self_us), int(cumulative_us), stripped, depth))
    return lines


def importtime_runs(runs: int) -> list[list[ImportLine]]:
    """``runs`` fresh ``python -X importtime -c "import MODULE"`` runs, each parsed in import order."""
    return [
        parse_importtime(_python("-X", "importtime", "-c", f"import {MODULE}").stderr) for _ in range(runs)
    ]


def median_breakdown(runs: list[list[ImportLine]]) -> dict[str, ImportLine]:
    """Per module, the median self and cumulative time over ``runs``."""
    samples: dict[str, list[ImportLine]] = defaultdict(list)
    for run in runs:
        for line in run:
            samples[line.name].append(line)
    return {
        name: ImportLine(
            int(statistics.median(x.self_us for x in found)),
            int(statistics.median(x.cumulative_us for x in found)),
            name,
            found[0].depth,
        )
        for name, found in samples.items()
    }


def direct_imports(lines: list[ImportLine], parent: str) -> list[ImportLine]:
    """Modules imported directly by ``parent``: the lines one level deeper just before its line."""
    index = next(i for i, line in enumerate(lines) if line.name == parent)
    depth = lines[index].depth
    children = []
    for line in reversed(lines[:index]):
        if line.depth <= depth:
            break
        if line.depth == depth + 1:
            children.append(line)
    return children


def bench_import(cfg: Config) -> Section:
    """Import time of the pricing module in fresh interpreters, with the modules that dominate it."""
    heading(f"import: cold import of {MODULE} (fresh interpreter per run)")
    repeats = cfg.repeats(9, 3)
    timed_import()  # warm the page cache and __pycache__ once, like any host after its first start
    samples = [timed_import() for _ in range(repeats)]
    startup = min(interpreter_startup() for _ in range(3))
    low, mid = format_seconds(min(samples)), format_seconds(statistics.median(samples))
    detail(f"import only: min {low}, median {mid} ({repeats} fresh interpreters)")
    detail(f"interpreter start-up alone (python -c pass, min of 3; excluded): {format_seconds(startup)}")
    runs = importtime_runs(cfg.repeats(3, 1))
    _print_breakdown(median_breakdown(runs), direct_imports(runs[0], MODULE))
    return Section(
        "import",
        [
            Check(
                f"import {MODULE}",
                format_seconds(min(samples)),
                f"≤ {format_seconds(TARGET)}",
                min(samples) <= TARGET,
            )
        ],
    )


def _print_breakdown(breakdown: dict[str, ImportLine], children: list[ImportLine]) -> None:
    """Top 5 by cumulative and by self time, and the share of each direct import of the module."""
    total = breakdown[MODULE].cumulative_us
    detail(f"-X importtime (median of runs; importtime's own overhead included): total {total / 1e3:.0f} ms")
    detail("top 5 by cumulative time:")
    for line in sorted(breakdown.values(), key=lambda x: -x.cumulative_us)[:5]:
        detail(f"  {line.cumulative_us / 1e3:7.1f} ms  {100 * line.cumulative_us / total:5.1f}%  {line.name}")
    detail("top 5 by self time:")
    for line in sorted(breakdown.values(), key=lambda x: -x.self_us)[:5]:
        detail(f"  {line.self_us / 1e3:7.1f} ms  {100 * line.self_us / total:5.1f}%  {line.name}")
    cumulative = {c.name: breakdown[c.name].cumulative_us for c in children}
    shares = ", ".join(
        f"{name} {us / 1e3:.0f} ms ({100 * us / total:.0f}%)"
        for name, us in sorted(cumulative.items(), key=lambda item: -item[1])[:4]
    )
    detail(f"dominated by its direct imports: {shares}")
