"""Entry point: ``python -m bench [--quick] [NAME ...]`` runs the benchmarks and prints a summary table.

Exits 0 whether or not the targets are met (the summary line says which were missed); exits 2 on
an unknown benchmark name.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from bench.config import Config
from bench.dashboard import bench_dashboard
from bench.imports import bench_import
from bench.localcloud import bench_localcloud
from bench.max_pain import bench_max_pain
from bench.pipeline import bench_enrich, bench_function_imports, bench_pipeline
from bench.pricing import bench_greeks, bench_iv
from bench.report import Section, render_table, summary_line
from bench.rest import bench_rest
from bench.websocket import bench_websocket

BENCHMARKS: dict[str, tuple[Callable[[Config], Section], str]] = {
    "greeks": (bench_greeks, "price + all Greeks, 100,000 options and n=100, vs py_vollib_vectorized"),
    "iv": (bench_iv, "implied volatility of 100,000 options: rate and accuracy vs py_vollib_vectorized"),
    "max_pain": (bench_max_pain, "max pain at 100 / 1,000 / 10,000 strikes vs O(n²) references"),
    "import": (bench_import, "cold import time of deltastream.domain.pricing, with -X importtime breakdown"),
    "localcloud": (bench_localcloud, "local cloud Kinesis path: records/s and put → handler latency"),
    "enrich": (bench_enrich, "enrichment of a 100-chain batch on real adapters: compute vs I/O"),
    "pipeline": (bench_pipeline, "local stack, feed at full speed: records/s, produce → stored p99, losses"),
    "function_imports": (bench_function_imports, "cold import time of each function module"),
    "rest": (bench_rest, "REST API through the local gateway: p50/p99 at 200 requests/s"),
    "websocket": (bench_websocket, "1,000 WebSocket clients: tick → client latency, fan-out posts/s"),
    "dashboard": (bench_dashboard, "the dashboard in Chromium: page weight, first chain render, long tasks"),
}


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    epilog = "benchmarks:\n" + "\n".join(f"  {name:<9} {text}" for name, (_, text) in BENCHMARKS.items())
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="DeltaStream benchmarks against peers measured in the same run.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run, not a measurement")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return args


def _print_environment(cfg: Config) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"DeltaStream benchmarks{' (--quick)' if cfg.quick else ''}: Python {platform.python_version()}, "
        f"numpy {np.__version__}, {cores} cores, {platform.machine()}, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("Timings: min and median of repeated samples (time.perf_counter, after warm-up); rates, ratios and")
    print(
        "PASS/MISS use the min. Ratios are peer time / our time, both measured in this run on the same data."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks, then print the table and the summary line."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.list:
        for name, (_, text) in BENCHMARKS.items():
            print(f"{name:<9} {text}")
        return 0
    cfg = Config(quick=args.quick)
    _print_environment(cfg)
    start = time.perf_counter()
    sections = [BENCHMARKS[name][0](cfg) for name in (args.names or BENCHMARKS)]
    print(f"\n== summary ({time.perf_counter() - start:.0f} s) ==")
    print(render_table(sections))
    print(summary_line(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
