"""Black-Scholes-Merton prices, Greeks and implied volatility, vectorised over numpy arrays.

Every function broadcasts over all of its arguments (scalars, lists or arrays of any compatible
shape) and takes them in py_vollib's fixed order: ``flag, S, K, t, r, sigma`` then ``q``.

- ``flag``: ``'c'``/``'p'`` (either case), an array of them, or +1 (call) / -1 (put).
- ``S`` spot, ``K`` strike (same currency), ``t`` time to expiry in years, ``r`` the continuously
  compounded risk-free rate, ``sigma`` the annualised volatility, ``q`` the continuous dividend
  yield (0 for a non-dividend stock; the foreign rate for an FX option).

Greeks follow py_vollib's analytical conventions (``py_vollib.black_scholes_merton.greeks``):
delta per unit of S, gamma per unit of S squared, vega per 1 volatility point (x 0.01), theta per
calendar day (/ 365), rho per 1 % of rate (x 0.01).

References: Black & Scholes (1973); Merton (1973) for the dividend yield; J. C. Hull, *Options,
Futures, and Other Derivatives*, 9th ed., ch. 15 (BSM), 17 (dividend yield) and 19 (Greeks);
P. Jäckel, "By Implication" (Wilmott, 2006) for the normalised Black function used by the
implied-volatility solver.

Degenerate inputs never raise: a zero volatility or zero time gives the discounted intrinsic value
of the forward (delta 0 or ±e^{-qt}, gamma and vega 0); inputs with no meaning (negative vol,
negative time, non-positive spot or strike) give NaN.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

__all__ = [
    "GREEK_NAMES",
    "greeks",
    "implied_volatility",
    "option_sign",
    "price",
    "price_and_greeks",
]

FloatArray = NDArray[np.float64]

GREEK_NAMES: Final = ("delta", "gamma", "vega", "theta", "rho")

_INV_SQRT_2PI: Final = 1.0 / math.sqrt(2.0 * math.pi)
_DAYS_PER_YEAR: Final = 365.0
_PER_POINT: Final = 0.01


def option_sign(flag: ArrayLike) -> FloatArray | float:
    """+1.0 for calls and -1.0 for puts, from ``'c'``/``'p'`` (any case), arrays of them, or ±1.

    Raises ``ValueError`` naming the offending values for anything else.
    """
    if isinstance(flag, str):  # the common scalar case, without numpy
        lowered = flag.lower()
        if lowered == "c":
            return 1.0
        if lowered == "p":
            return -1.0
        raise ValueError(f"flag must be 'c' or 'p' (or +1/-1), got {flag!r}")
    flags = np.asarray(flag)
    if flags.dtype.kind in "USO":
        if flags.dtype.kind != "U":
            flags = flags.astype(str)
        if flags.dtype.itemsize == 4 and flags.ndim:  # one character each: compare code points
            codes = flags.view(np.uint32)
            is_call = codes == ord("c")
            known = is_call | (codes == ord("p"))
        else:
            is_call = flags == "c"
            known = is_call | (flags == "p")
        if not known.all():
            flags = np.char.lower(flags)
            is_call = flags == "c"
            known = is_call | (flags == "p")
            if not known.all():
                raise ValueError(f"flag must be 'c' or 'p' (or +1/-1), got {np.unique(flags[~known])[:5]!r}")
        return np.where(is_call, 1.0, -1.0)
    if flags.dtype.kind in "biuf":
        signs = np.asarray(flags, dtype=np.float64)
        if not ((signs == 1.0) | (signs == -1.0)).all():
            raise ValueError(f"numeric flag must be +1 (call) or -1 (put), got {np.unique(signs)[:5]!r}")
        return signs
    raise ValueError(f"flag must be 'c'/'p' or ±1, got dtype {flags.dtype}")


# Work through large inputs in blocks this long: each temporary (64 KiB) then stays in the CPU
# cache and in the allocator's free lists, where a 100,000-long temporary would be a fresh mmap()
# whose pages fault in on every use (glibc's default mmap threshold is 128 KiB). That alone makes
# the evaluation 2-3x faster.
_BLOCK: Final = 8192
_PARALLEL_MIN_BLOCKS: Final = 4
_WORKERS: Final = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)


def _as_flags(flag: ArrayLike) -> NDArray[Any]:
    """Flags as an array, checked and converted to ±1 block by block (cache-friendly, in parallel)."""
    flags = np.asarray(flag)
    if flags.dtype.kind not in "USObiuf":
        raise ValueError(f"flag must be 'c'/'p' or ±1, got dtype {flags.dtype}")
    return flags


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _evaluate(
    flag: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike,
    *,
    want_price: bool,
    want_greeks: bool,
) -> dict[str, FloatArray]:
    args = [_as_flags(flag), *(_as_float(v) for v in (S, K, t, r, sigma, q))]
    names = (("price",) if want_price else ()) + (GREEK_NAMES if want_greeks else ())
    return _map_blocks(
        functools.partial(_evaluate_block, want_price=want_price, want_greeks=want_greeks), args, names
    )


def _map_blocks(
    block_fn: Callable[..., dict[str, FloatArray]], args: list[FloatArray], names: tuple[str, ...]
) -> dict[str, FloatArray]:
    """Broadcast ``args`` and apply ``block_fn`` to blocks of at most :data:`_BLOCK` elements.

    Blocks are independent, so large inputs are spread over the CPU cores: numpy and scipy ufuncs
    release the GIL while they loop.
    """
    shape = np.broadcast_shapes(*(a.shape for a in args))
    size = math.prod(shape)
    if size <= _BLOCK:
        return {name: np.asarray(v) for name, v in block_fn(*args).items()}
    flat = [a if a.ndim == 0 else np.broadcast_to(a, shape).reshape(-1) for a in args]
    out = {name: np.empty(size) for name in names}

    def run(start: int) -> None:
        block = slice(start, start + _BLOCK)
        for name, value in block_fn(*(a if a.ndim == 0 else a[block] for a in flat)).items():
            out[name][block] = value

    starts = range(0, size, _BLOCK)
    if len(starts) >= _PARALLEL_MIN_BLOCKS and _WORKERS > 1:
        for _ in _executor().map(run, starts):
            pass
    else:
        for start in starts:
            run(start)
    return {name: value.reshape(shape) for name, value in out.items()}


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="deltastream-pricing")


def _evaluate_block(
    flag: NDArray[Any],
    S: FloatArray,
    K: FloatArray,
    t: FloatArray,
    r: FloatArray,
    sigma: FloatArray,
    q: FloatArray,
    *,
    want_price: bool,
    want_greeks: bool,
) -> dict[str, FloatArray]:
    """Price and/or Greeks sharing every intermediate (one log, two ndtr, three exp)."""
    w = option_sign(flag)
    S_, K_, t_, r_, sigma_, q_ = S, K, t, r, sigma, q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sqrt_t = np.sqrt(t_)
        vol = sigma_ * sqrt_t
        d1 = (np.log(S_ / K_) + (r_ - q_ + 0.5 * sigma_ * sigma_) * t_) / vol
        degenerate = ~(vol > 0.0)
        if degenerate.any():
            d1 = _degenerate_d1(d1, vol, S_, K_, t_, r_, q_)
        d2 = d1 - vol
        disc_q = np.exp(-q_ * t_)
        disc_r = np.exp(-r_ * t_)
        S_disc = S_ * disc_q
        K_disc = K_ * disc_r
        n_d1 = ndtr(w * d1)  # N(w d1)
        n_d2 = ndtr(w * d2)  # N(w d2)
        call_leg = S_disc * n_d1  # S e^{-qt} N(w d1)
        strike_leg = K_disc * n_d2  # K e^{-rt} N(w d2)
        out: dict[str, FloatArray] = {}
        if want_price:
            out["price"] = w * (call_leg - strike_leg)
        if want_greeks:
            pdf_d1 = np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
            S_disc_pdf = S_disc * pdf_d1
            gamma = disc_q * pdf_d1 / (S_ * vol)
            vega = S_disc_pdf * sqrt_t
            decay = S_disc_pdf * sigma_ / (2.0 * sqrt_t)
            if degenerate.any():
                # At zero vol or zero time the option is its (discounted forward) intrinsic value:
                # no convexity and no exposure to volatility or to the passage of vol-time.
                gamma = np.where(degenerate, 0.0, gamma)
                decay = np.where(degenerate, 0.0, decay)
                vega = np.where(degenerate & ~(t_ >= 0.0), np.nan, vega)
            out["delta"] = w * disc_q * n_d1
            out["gamma"] = gamma
            out["vega"] = vega * _PER_POINT
            out["theta"] = (w * (q_ * call_leg - r_ * strike_leg) - decay) / _DAYS_PER_YEAR
            out["rho"] = w * t_ * strike_leg * _PER_POINT
        if degenerate.any():
            invalid = ~(sigma_ >= 0.0) | ~(t_ >= 0.0)
            if invalid.any():
                for name, values in out.items():
                    out[name] = np.where(invalid, np.nan, values)
    return out


def _degenerate_d1(
    d1: FloatArray, vol: FloatArray, S: FloatArray, K: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray
) -> FloatArray:
    """d1 where vol = σ√t is zero: ±∞ by the sign of ln(F/K), 0 exactly at the forward."""
    log_moneyness = np.log(S / K) + (r - q) * t
    limit = np.where(log_moneyness == 0.0, 0.0, np.copysign(np.inf, log_moneyness))
    return np.where(vol == 0.0, limit, d1)


def price(
    flag: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """Black-Scholes-Merton price of a European option.

    ``c = S e^{-qt} N(d1) - K e^{-rt} N(d2)``, ``p = K e^{-rt} N(-d2) - S e^{-qt} N(-d1)`` with
    ``d1 = (ln(S/K) + (r - q + σ²/2) t) / (σ√t)`` and ``d2 = d1 - σ√t`` (Hull, 9th ed., eq. 17.4-17.5).
    """
    return _evaluate(flag, S, K, t, r, sigma, q, want_price=True, want_greeks=False)["price"]


def greeks(
    flag: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
) -> Mapping[str, FloatArray]:
    """Analytical Greeks: ``delta``, ``gamma``, ``vega`` (per vol point), ``theta`` (per calendar
    day) and ``rho`` (per 1 %), with py_vollib's conventions.

    - delta = w e^{-qt} N(w d1)
    - gamma = e^{-qt} φ(d1) / (S σ √t)
    - vega  = S e^{-qt} φ(d1) √t × 0.01
    - theta = [-S e^{-qt} φ(d1) σ / (2√t) + w (q S e^{-qt} N(w d1) - r K e^{-rt} N(w d2))] / 365
    - rho   = w K t e^{-rt} N(w d2) × 0.01
    where w = +1 for calls and -1 for puts.
    """
    return _evaluate(flag, S, K, t, r, sigma, q, want_price=False, want_greeks=True)


def price_and_greeks(
    flag: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    sigma: ArrayLike,
    q: ArrayLike = 0.0,
) -> Mapping[str, FloatArray]:
    """``price`` and every Greek of :func:`greeks` in one pass over the data (what a chain needs)."""
    return _evaluate(flag, S, K, t, r, sigma, q, want_price=True, want_greeks=True)


# --- implied volatility -------------------------------------------------------------------------
#
# The solver works on Jäckel's normalised Black call b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2),
# with x = ln(F/K) and s = σ√t. Every option is first turned into the out-of-the-money one by
# put-call parity (an in-the-money price is mostly intrinsic value, whose rounding would swamp the
# time value), and an OTM put is the OTM call of -x (b_put(x, s) = b_call(-x, s)), so only x ≤ 0 calls
# are ever solved. b rises from 0 to e^{x/2} as s goes from 0 to ∞, with its inflection point at
# s_c = √(2|x|); each step is a Householder (Halley) step on ln b for prices below b(s_c), where ln b
# is nearly linear in 1/s, and on b itself above it, kept inside a bracket that every evaluation
# shrinks, so it cannot diverge; bisection takes over whenever a step would leave the bracket.

_IV_MAX_ITERATIONS: Final = 64
# Halley converges cubically: once a step is below this (relative) size, the error left after it
# is below 1e-15 relative, so the step is taken and the option retired.
_IV_LAST_STEP: Final = 1e-6
_IV_MAX_S: Final = 1e3  # σ√t beyond which prices are indistinguishable from the upper bound


def _normalised_call(x: FloatArray, s: FloatArray) -> FloatArray:
    return np.exp(0.5 * x) * ndtr(x / s + 0.5 * s) - np.exp(-0.5 * x) * ndtr(x / s - 0.5 * s)


def _normalised_vega(x: FloatArray, s: FloatArray) -> FloatArray:
    """∂b/∂s = φ(x/s + s/2) e^{x/2} = exp(-x²/(2s²) - s²/8) / √(2π)."""
    return np.exp(-0.5 * (x / s) ** 2 - 0.125 * s * s) * _INV_SQRT_2PI


def _initial_s(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Start at the exact at-the-forward answer when x = 0, else near the inflection point.

    At x = 0, b(0, s) = 2N(s/2) - 1 inverts exactly: s = 2 N⁻¹((1 + β)/2). Away from it, start from
    the larger of that and s_c = √(2|x|), which is where vega peaks; the bracketed iteration takes it
    from there.
    """
    s_atm = 2.0 * ndtri(0.5 * (1.0 + beta))
    s_c = np.sqrt(2.0 * np.abs(x))
    return np.maximum(np.where(np.isfinite(s_atm), s_atm, s_c), 0.5 * s_c)


def _solve_normalised(x: FloatArray, beta: FloatArray) -> FloatArray:
    """s = σ√t with b(x, s) = β for x ≤ 0 and 0 < β < e^{x/2} (all inputs valid)."""
    s = _initial_s(x, beta)
    s_out = np.empty_like(s)
    lo = np.zeros_like(s)
    hi = np.full_like(s, np.inf)
    idx = np.arange(s.size)
    log_beta = np.log(beta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for _ in range(_IV_MAX_ITERATIONS):
            b = _normalised_call(x, s)
            vega = _normalised_vega(x, s)
            above = b > beta
            hi = np.where(above, s, hi)
            lo = np.where(above, lo, s)
            # b'' / b' = x²/s³ - s/4 for the normalised Black function.
            curvature = (x * x) / (s * s * s) - 0.25 * s
            low_price = beta < 0.5 * np.exp(0.5 * x)
            # Objective ln b - ln β for low prices (nearly linear where b is tiny), b - β otherwise.
            residual = np.where(low_price, np.log(b) - log_beta, b - beta)
            slope = np.where(low_price, vega / b, vega)
            slope2 = np.where(low_price, slope * (curvature - slope), vega * curvature)
            newton = -residual / slope
            # Halley's correction of the Newton step, trusted only while it is a modest one.
            correction = 1.0 + 0.5 * newton * slope2 / slope
            step = np.where((correction > 0.5) & (correction < 2.0), newton / correction, newton)
            proposal = s + step
            # A Newton step this small is already converged: take it as it is (at the solution the
            # step may be exactly 0, which sits on the bracket's edge and must not trigger bisection).
            converged = np.abs(newton) <= _IV_LAST_STEP * s
            outside = ~((proposal > lo) & (proposal < hi) | converged)
            if outside.any():
                proposal = np.where(outside, np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * s), proposal)
            done = converged | (hi - lo <= 1e-15 * hi) & np.isfinite(hi) | (proposal > _IV_MAX_S)
            if done.any():
                s_out[idx[done]] = proposal[done]
                keep = ~done
                if not keep.any():
                    return s_out
                idx, x, beta, log_beta = idx[keep], x[keep], beta[keep], log_beta[keep]
                proposal, lo, hi = proposal[keep], lo[keep], hi[keep]
            s = proposal
    s_out[idx] = s  # pragma: no cover - the bracket guarantees convergence well before this
    return s_out


def implied_volatility(
    price: ArrayLike,
    flag: ArrayLike,
    S: ArrayLike,
    K: ArrayLike,
    t: ArrayLike,
    r: ArrayLike,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """The σ at which :func:`price` returns ``price``: vectorised, robust for deep ITM/OTM options
    and short expiries.

    Returns NaN (never raises) where no volatility reproduces the price: at or below the
    discounted intrinsic value of the forward for a positive time, at or above the no-arbitrage
    upper bound (S e^{-qt} for a call, K e^{-rt} for a put), or for t ≤ 0 and non-positive S or K.
    A price exactly equal to the intrinsic value gives 0.
    """
    args = [_as_float(price), _as_flags(flag)]
    args += [_as_float(v) for v in (S, K, t, r, q)]
    return _map_blocks(_implied_volatility_block, args, ("sigma",))["sigma"]


def _implied_volatility_block(
    price: FloatArray,
    flag: NDArray[Any],
    S: FloatArray,
    K: FloatArray,
    t: FloatArray,
    r: FloatArray,
    q: FloatArray,
) -> dict[str, FloatArray]:
    broadcast = np.broadcast_arrays(price, np.asarray(option_sign(flag), dtype=np.float64), S, K, t, r, q)
    shape = broadcast[0].shape
    price_, w_, S_, K_, t_, r_, q_ = (np.ravel(a) for a in broadcast)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc_r = np.exp(-r_ * t_)
        forward = S_ * np.exp((r_ - q_) * t_)
        log_moneyness = np.log(forward / K_)
        # Undiscounted price of the out-of-the-money option, by parity c - p = F - K (undiscounted).
        undiscounted = price_ / disc_r
        in_the_money = w_ * log_moneyness > 0.0
        otm_price = np.where(in_the_money, undiscounted - w_ * (forward - K_), undiscounted)
        x = -np.abs(log_moneyness)
        beta = otm_price / np.sqrt(forward * K_)
        # 0 < β < e^{x/2}: above the OTM option's intrinsic value (0) and below its upper bound
        # (the forward for a call); outside, no volatility reproduces the price.
        valid = (t_ > 0.0) & (beta > 0.0) & (beta < np.exp(0.5 * x)) & np.isfinite(x)
        at_intrinsic = (t_ > 0.0) & (beta == 0.0) & np.isfinite(x)
    sigma = np.full(price_.shape, np.nan)
    sigma[at_intrinsic] = 0.0
    if valid.any():
        sigma[valid] = _solve_normalised(x[valid], beta[valid]) / np.sqrt(t_[valid])
    return {"sigma": sigma.reshape(shape)}
