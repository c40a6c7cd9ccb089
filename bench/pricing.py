"""Black-Scholes-Merton benchmarks against py_vollib_vectorized: price + Greeks, and implied volatility.

Both sides get the same numpy arrays (flags as a ``'c'``/``'p'`` string array) and return numpy
arrays or a dict of them, so input conversion is charged to both. py_vollib_vectorized is numba-jitted
and single-threaded; ours is numpy/scipy and spreads blocks over ``pricing._WORKERS`` threads, so
the single-thread figure is printed too.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.config import Config, detail, heading
from bench.data import DESCRIPTION, FloatArray, Options, make_options
from bench.peers import load_py_vollib_vectorized
from bench.report import Check, Section
from bench.timing import Timing, format_rate, format_seconds, measure
from deltastream.domain import pricing

N_BOOK = 100_000
N_SMALL = 100
TARGET_RATE = 15e6  # options/s, price + all Greeks
TARGET_SPEEDUP = 20.0  # x py_vollib_vectorized, price + all Greeks
TARGET_SMALL_CALL = 100e-6  # s per call at n = 100
TARGET_IV_SPEEDUP = 1.2  # x py_vollib_vectorized's IV rate
IV_ERROR_FLOOR = 1e-10  # "equal or better" accuracy: ours ≤ max(peer, this)
VEGA_FLOOR = 1e-3  # per vol point: below it σ is not identifiable from a float64 price


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run our pricing on the calling thread only (information: the peer uses one core)."""
    saved = pricing._WORKERS
    pricing._WORKERS = 1  # type: ignore[misc]
    try:
        yield
    finally:
        pricing._WORKERS = saved  # type: ignore[misc]


def _load_peer() -> Any:
    """Import py_vollib_vectorized (with bench.peers' workaround) and report how long that took."""
    start = time.perf_counter()
    pvv = load_py_vollib_vectorized()
    detail(f"py_vollib_vectorized import + patch: {format_seconds(time.perf_counter() - start)}")
    return pvv


def _first_call(label: str, fn: Callable[[], object]) -> None:
    """Run ``fn`` once untimed by ``measure`` and print its time: numba compiles (or loads its
    on-disk cache) here, which is excluded from every timed sample."""
    start = time.perf_counter()
    fn()
    elapsed = format_seconds(time.perf_counter() - start)
    detail(f"{label} first call (JIT compile or cache load, untimed): {elapsed}")


# --- price + all Greeks --------------------------------------------------------------------------


def ours_price_and_greeks(o: Options) -> Callable[[], object]:
    """Our one-pass price + delta, gamma, vega, theta, rho."""
    return lambda: pricing.price_and_greeks(*o.pricing_args(), o.q)


def peer_price_and_greeks(pvv: Any, o: Options) -> Callable[[], object]:
    """The peer's fastest path to the same outputs: its price as numpy plus ``get_all_greeks`` as a
    dict (``'dataframe'`` and ``'json'`` only add conversions). Its Greeks are finite differences."""

    def run() -> tuple[object, object]:
        value = pvv.vectorized_black_scholes_merton(*o.pricing_args(), o.q, return_as="numpy")
        greeks = pvv.get_all_greeks(*o.pricing_args(), o.q, model="black_scholes_merton", return_as="dict")
        return value, greeks

    return run


def _time_pair(
    cfg: Config, ours: Callable[[], object], peer: Callable[[], object], n: int
) -> tuple[Timing, Timing]:
    """Time ours and the peer on the same ``n`` options, with ~0.1 s of calls per sample when small."""
    number_ours = 1 if n >= 10_000 else 500
    number_peer = 1 if n >= 10_000 else 50
    ours_t = measure(ours, repeats=cfg.repeats(30, 5), number=number_ours, warmup=2)
    peer_t = measure(peer, repeats=cfg.repeats(9, 3), number=number_peer, warmup=1)
    return ours_t, peer_t


def bench_greeks(cfg: Config) -> Section:
    """Price + all five Greeks for 100,000 options (throughput) and for 100 (per-call latency)."""
    heading("greeks: price + all Greeks, ours (price_and_greeks) vs py_vollib_vectorized")
    detail(f"data: {DESCRIPTION}")
    pvv = _load_peer()
    book, small = make_options(N_BOOK), make_options(N_SMALL)
    _first_call("peer", peer_price_and_greeks(pvv, small))
    _report_price_agreement(pvv, book)

    ours_t, peer_t = _time_pair(cfg, ours_price_and_greeks(book), peer_price_and_greeks(pvv, book), N_BOOK)
    with single_threaded():
        ours_1t = measure(ours_price_and_greeks(book), repeats=cfg.repeats(30, 5), warmup=2)
    detail(f"n={N_BOOK:,} ours ({pricing._WORKERS} threads): {ours_t.describe()}")
    detail(f"n={N_BOOK:,} ours (1 thread):  {ours_1t.describe()}")
    detail(f"n={N_BOOK:,} peer:             {peer_t.describe()}")
    small_ours, small_peer = _time_pair(
        cfg, ours_price_and_greeks(small), peer_price_and_greeks(pvv, small), N_SMALL
    )
    detail(f"n={N_SMALL} ours: {small_ours.describe()}")
    detail(f"n={N_SMALL} peer: {small_peer.describe()}")
    return Section("greeks", _greeks_checks(ours_t, ours_1t, peer_t, small_ours, small_peer))


def _report_price_agreement(pvv: Any, o: Options) -> None:
    """Both sides must be computing the same thing: print the largest price and delta differences."""
    ours = pricing.price_and_greeks(*o.pricing_args(), o.q)
    peer_price = pvv.vectorized_black_scholes_merton(*o.pricing_args(), o.q, return_as="numpy")
    peer_greeks = pvv.get_all_greeks(*o.pricing_args(), o.q, model="black_scholes_merton", return_as="dict")
    price_diff = np.max(np.abs(ours["price"] - peer_price))
    delta_diff = np.max(np.abs(ours["delta"] - np.asarray(peer_greeks["delta"])))
    detail(
        f"agreement with peer: max |Δprice| {price_diff:.2e}, max |Δdelta| {delta_diff:.2e} "
        "(the peer's Greeks are finite differences)"
    )


def _greeks_checks(
    ours: Timing, ours_1t: Timing, peer: Timing, small: Timing, small_peer: Timing
) -> list[Check]:
    rate, peer_rate = N_BOOK / ours.min, N_BOOK / peer.min
    speedup = peer.min / ours.min
    return [
        Check(
            f"rate, n={N_BOOK:,}",
            format_rate(rate),
            f"≥ {format_rate(TARGET_RATE)}",
            rate >= TARGET_RATE,
            peer=format_rate(peer_rate),
            ratio=f"{speedup:.1f}x",
        ),
        Check(
            f"speed-up vs peer, n={N_BOOK:,}",
            f"{speedup:.1f}x",
            f"≥ {TARGET_SPEEDUP:g}x",
            speedup >= TARGET_SPEEDUP,
        ),
        Check(
            f"rate, 1 thread, n={N_BOOK:,}",
            format_rate(N_BOOK / ours_1t.min),
            "",
            None,
            peer=format_rate(peer_rate),
            ratio=f"{peer.min / ours_1t.min:.1f}x",
        ),
        Check(
            f"time per call, n={N_SMALL}",
            format_seconds(small.min),
            f"≤ {format_seconds(TARGET_SMALL_CALL)}",
            small.min <= TARGET_SMALL_CALL,
            peer=format_seconds(small_peer.min),
            ratio=f"{small_peer.min / small.min:.1f}x",
        ),
    ]


# --- implied volatility --------------------------------------------------------------------------


def _iv_errors(
    sigma_hat: FloatArray, sigma: FloatArray, identifiable: NDArray[np.bool_]
) -> tuple[float, int, int]:
    """(max |σ̂ − σ| over identifiable options ignoring NaN, NaNs among them, NaNs overall)."""
    failed = ~np.isfinite(sigma_hat)
    error = np.abs(sigma_hat - sigma)[identifiable & ~failed]
    return float(error.max(initial=0.0)), int((failed & identifiable).sum()), int(failed.sum())


def bench_iv(cfg: Config) -> Section:
    """Implied volatility of 100,000 prices made by our ``price`` from known σ: rate and accuracy."""
    heading("iv: implied volatility, ours vs py_vollib_vectorized (Jäckel's Let's Be Rational)")
    pvv = _load_peer()
    o = make_options(N_BOOK)
    prices = pricing.price(*o.pricing_args(), o.q)
    identifiable = pricing.greeks(*o.pricing_args(), o.q)["vega"] > VEGA_FLOOR
    detail(f"data: {DESCRIPTION}")
    detail(f"prices from our price() at the known σ; {int(identifiable.sum()):,} with vega > {VEGA_FLOOR:g}")

    def ours() -> FloatArray:
        return pricing.implied_volatility(prices, o.flag, o.S, o.K, o.t, o.r, o.q)

    def peer() -> FloatArray:
        return np.asarray(
            pvv.vectorized_implied_volatility(
                prices, o.S, o.K, o.t, o.r, o.flag, q=o.q,
                model="black_scholes_merton", return_as="numpy", on_error="ignore",
            )
        )  # fmt: skip

    _first_call("peer", peer)
    ours_t = measure(ours, repeats=cfg.repeats(15, 5), warmup=2)
    peer_t = measure(peer, repeats=cfg.repeats(9, 3), warmup=1)
    detail(f"ours: {ours_t.describe()}")
    detail(f"peer: {peer_t.describe()}")
    ours_err, peer_err = _iv_errors(ours(), o.sigma, identifiable), _iv_errors(peer(), o.sigma, identifiable)
    for label, (err, nan_id, nan_all) in (("ours", ours_err), ("peer", peer_err)):
        detail(
            f"{label}: max |σ̂ − σ| (vega > {VEGA_FLOOR:g}) {err:.3e}; NaN {nan_id} of those, {nan_all} in all"
        )
    return Section("iv", _iv_checks(ours_t, peer_t, ours_err, peer_err))


def _iv_checks(
    ours: Timing, peer: Timing, ours_err: tuple[float, int, int], peer_err: tuple[float, int, int]
) -> list[Check]:
    speedup = peer.min / ours.min
    accurate = ours_err[0] <= max(peer_err[0], IV_ERROR_FLOOR) and ours_err[1] <= peer_err[1]
    return [
        Check(
            f"IV rate, n={N_BOOK:,}",
            format_rate(N_BOOK / ours.min),
            f"≥ {TARGET_IV_SPEEDUP:g}x peer",
            speedup >= TARGET_IV_SPEEDUP,
            peer=format_rate(N_BOOK / peer.min),
            ratio=f"{speedup:.2f}x",
        ),
        Check(
            f"IV max |σ̂−σ|, vega>{VEGA_FLOOR:g}",
            f"{ours_err[0]:.2e}",
            f"≤ max(peer, {IV_ERROR_FLOOR:g}), no extra NaN",
            accurate,
            peer=f"{peer_err[0]:.2e}",
        ),
        Check(
            "IV NaN: vega>1e-3 / all",
            f"{ours_err[1]} / {ours_err[2]}",
            "",
            None,
            peer=f"{peer_err[1]} / {peer_err[2]}",
        ),
    ]
