"""Max pain: our O(n log n) ``chain.max_pain`` against the O(n²) references.

Peers: ``chain.max_pain_naive`` (numpy, pain evaluated at every strike) and a plain Python double
loop over lists (the code one writes first; given lists, so no conversion is charged to it). The
pure-Python loop is skipped at 10,000 strikes, where it would take tens of seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bench.config import Config, detail, heading
from bench.data import Chain, make_chain
from bench.report import Check, Section
from bench.timing import Timing, format_seconds, measure
from deltastream.domain import chain

SIZES = (100, 1_000, 10_000)
PURE_PYTHON_MAX = 1_000
TARGET_10K = 1e-3  # s at 10,000 strikes


def max_pain_pure_python(strikes: list[float], call_oi: list[float], put_oi: list[float]) -> float:
    """Reference max pain in plain Python: pain at every strike (ascending), lowest strike on a tie."""
    rows = sorted(zip(strikes, call_oi, put_oi, strict=True))
    best_strike, best_pain = math.nan, math.inf
    for settlement, _, _ in rows:
        pain = 0.0
        for strike, calls, puts in rows:
            if settlement > strike:
                pain += calls * (settlement - strike)
            elif strike > settlement:
                pain += puts * (strike - settlement)
        if pain < best_pain:
            best_strike, best_pain = settlement, pain
    return best_strike


def _number_for(seconds_hint: float) -> int:
    """Calls per sample so that one sample lasts roughly 20 ms."""
    return max(1, int(0.02 / seconds_hint))


def _time(cfg: Config, fn: Callable[[], float], heavy: bool) -> Timing:
    """Time ``fn``, calibrating the calls per sample from one untimed call."""
    probe = measure(fn, repeats=1, warmup=1)
    repeats = cfg.repeats(3, 1) if heavy else cfg.repeats(9, 3)
    return measure(fn, repeats=repeats, number=_number_for(probe.min), warmup=0)


def _bench_size(cfg: Config, n: int) -> tuple[Check, ...]:
    """Time ours, the naive numpy version and (when small enough) the pure-Python loop at ``n`` strikes."""
    c: Chain = make_chain(n)
    ours = chain.max_pain(c.strikes, c.call_oi, c.put_oi)
    naive = chain.max_pain_naive(c.strikes, c.call_oi, c.put_oi)
    ours_t = _time(cfg, lambda: chain.max_pain(c.strikes, c.call_oi, c.put_oi), heavy=False)
    naive_t = _time(cfg, lambda: chain.max_pain_naive(c.strikes, c.call_oi, c.put_oi), heavy=n >= 10_000)
    detail(f"n={n:>6,} ours:        {ours_t.describe()}")
    detail(f"n={n:>6,} naive numpy: {naive_t.describe()}  speed-up {naive_t.min / ours_t.min:,.0f}x")
    answers = {ours, naive}
    checks = [_check(n, ours_t, naive_t, "naive")]
    if n <= PURE_PYTHON_MAX:
        lists = (c.strikes.tolist(), c.call_oi.tolist(), c.put_oi.tolist())
        answers.add(max_pain_pure_python(*lists))
        pure_t = _time(cfg, lambda: max_pain_pure_python(*lists), heavy=n >= 1_000)
        detail(f"n={n:>6,} pure Python: {pure_t.describe()}  speed-up {pure_t.min / ours_t.min:,.0f}x")
        checks.append(_check(n, ours_t, pure_t, "pure Python"))
    else:
        detail(f"n={n:>6,} pure Python: skipped (O(n²): ~100x its 1,000-strike time)")
    detail(f"n={n:>6,} max-pain strike {ours:g}; references agree: {'yes' if len(answers) == 1 else answers}")
    return tuple(checks)


def _check(n: int, ours: Timing, peer: Timing, peer_name: str) -> Check:
    """A row for ``n`` strikes; only ours vs naive at 10,000 strikes carries the latency target."""
    targeted = n == 10_000 and peer_name == "naive"
    return Check(
        f"{n:,} strikes vs {peer_name}",
        format_seconds(ours.min),
        f"≤ {format_seconds(TARGET_10K)}" if targeted else "",
        ours.min <= TARGET_10K if targeted else None,
        peer=format_seconds(peer.min),
        ratio=f"{peer.min / ours.min:,.0f}x",
    )


def bench_max_pain(cfg: Config) -> Section:
    """Max pain at 100, 1,000 and 10,000 strikes: ours vs the O(n²) references."""
    heading("max_pain: chain.max_pain (O(n log n)) vs max_pain_naive (O(n²) numpy) and a pure-Python loop")
    detail("data: strikes evenly over 50-150 (ascending), random whole-contract OI")
    section = Section("max_pain")
    for n in SIZES:
        section.checks.extend(_bench_size(cfg, n))
    return section
