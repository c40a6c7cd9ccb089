"""Volatility analytics: IV rank, IV percentile and an implied-volatility surface grid.

Implied volatilities are annualised decimals (0.15 = 15 %), times to expiry are in years, strikes
and forwards in the underlying's currency units. Inputs are array-likes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "DEFAULT_MONEYNESS_GRID",
    "VolatilitySurface",
    "iv_percentile",
    "iv_rank",
    "volatility_surface",
]

#: Default moneyness axis K/F of :func:`volatility_surface`: 0.80 to 1.20 in steps of 0.025.
DEFAULT_MONEYNESS_GRID: FloatArray = np.round(np.linspace(0.8, 1.2, 17), 10)

# Log-moneyness slack when deciding whether a grid point lies inside the observed range.
_EDGE_TOLERANCE = 1e-12


def _current_iv(value: float) -> float:
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"current_iv must be finite and ≥ 0, got {value!r}")
    return number


def _observed_history(iv_history: ArrayLike) -> FloatArray:
    """History as a 1-D float array with NaNs (missing days) removed; ±inf or negatives rejected."""
    history = np.asarray(iv_history, dtype=np.float64).reshape(-1)
    history = history[~np.isnan(history)]
    if np.isinf(history).any():
        raise ValueError("iv_history contains infinite values")
    if (history < 0).any():
        raise ValueError("iv_history contains negative values")
    return history


def iv_rank(current_iv: float, iv_history: ArrayLike) -> float:
    """IV rank in percent: 100·(current − min)/(max − min) over the history, clipped to [0, 100].

    Clipping is the same as counting the current value in the range, so a current IV above the
    historical maximum ranks 100 and one below the minimum ranks 0. NaNs in the history (missing
    observations) are ignored. A flat range (max = min = current) gives 50.0: the current IV is
    neither high nor low. An empty (or all-NaN) history gives ``nan``: there is nothing to rank
    against yet, which is a normal state for a new product, not an input error.
    """
    current = _current_iv(current_iv)
    history = _observed_history(iv_history)
    if history.size == 0:
        return float("nan")
    low = float(history.min())
    high = float(history.max())
    if low == high == current:
        return 50.0
    # The ends are explicit: 100·x/x may round either side of 100, breaking [0, 100] or monotonicity.
    if current >= high:
        return 100.0
    if current <= low:
        return 0.0
    return min(100.0, max(0.0, 100.0 * (current - low) / (high - low)))


def iv_percentile(current_iv: float, iv_history: ArrayLike) -> float:
    """IV percentile in percent: 100 × the share of history observations strictly below current.

    NaNs in the history are ignored (they neither count as below nor in the total). An empty (or
    all-NaN) history gives ``nan``. The result lies in [0, 100] and is non-decreasing in
    ``current_iv``.
    """
    current = _current_iv(current_iv)
    history = _observed_history(iv_history)
    if history.size == 0:
        return float("nan")
    return 100.0 * float(np.count_nonzero(history < current)) / history.size


@dataclass(frozen=True, slots=True)
class VolatilitySurface:
    """Implied volatility on a moneyness × expiry grid.

    ``expiries``: times to expiry in years, ascending (one row per observed expiry).
    ``moneyness``: K/F, ascending (one column per grid point).
    ``iv[i, j]``: implied vol at ``expiries[i]`` and ``moneyness[j]``; ``nan`` where the grid point
    lies outside the strikes observed for that expiry (no extrapolation).
    """

    expiries: FloatArray
    moneyness: FloatArray
    iv: FloatArray

    @property
    def log_moneyness(self) -> FloatArray:
        """ln(K/F) of each grid column."""
        return np.log(self.moneyness)


def volatility_surface(
    expiries: ArrayLike,
    strikes: ArrayLike,
    forwards: ArrayLike,
    ivs: ArrayLike,
    moneyness_grid: ArrayLike = DEFAULT_MONEYNESS_GRID,
) -> VolatilitySurface:
    """Grid per-quote implied vols onto fixed moneyness points for each observed expiry.

    Inputs are one value per quote: ``expiries`` (t in years, > 0), ``strikes`` (> 0), ``forwards``
    (F > 0; a scalar broadcasts, and passing the spot gives spot moneyness) and ``ivs`` (decimal).
    Quotes whose IV is NaN (no solution, e.g. no bid) are skipped. Quotes are grouped by exact
    expiry value; within an expiry, quotes at the same log-moneyness are averaged.

    Scheme: for each expiry the IV is interpolated linearly in log-moneyness ln(K/F) onto
    ``moneyness_grid`` (K/F values, ascending, > 0). Grid points outside the observed log-moneyness
    range of that expiry are NaN: no silent extrapolation. Expiries are not interpolated: each row
    is an observed expiry. Deterministic for a given set of quotes, whatever their order.
    """
    times, strike_values, forward_values, vols = np.broadcast_arrays(
        np.asarray(expiries, dtype=np.float64),
        np.asarray(strikes, dtype=np.float64),
        np.asarray(forwards, dtype=np.float64),
        np.asarray(ivs, dtype=np.float64),
    )
    times, strike_values, forward_values, vols = (
        a.reshape(-1) for a in (times, strike_values, forward_values, vols)
    )
    grid = np.asarray(moneyness_grid, dtype=np.float64).reshape(-1)
    if times.size == 0:
        raise ValueError("no quotes given")
    if grid.size == 0 or not np.isfinite(grid).all() or (grid <= 0).any() or (np.diff(grid) <= 0).any():
        raise ValueError("moneyness_grid must be non-empty, finite, positive and strictly increasing")
    for name, values in (("expiries", times), ("strikes", strike_values), ("forwards", forward_values)):
        if not np.isfinite(values).all() or (values <= 0).any():
            raise ValueError(f"{name} must be finite and positive")
    if np.isinf(vols).any() or (vols < 0).any():
        raise ValueError("ivs must be ≥ 0 and finite (NaN marks a missing quote)")

    observed = ~np.isnan(vols)
    times = times[observed]
    log_moneyness = np.log(strike_values[observed] / forward_values[observed])
    vols = vols[observed]
    if times.size == 0:
        raise ValueError("every iv is NaN: nothing to build a surface from")

    # Sort by (expiry, log-moneyness), then average duplicates of the same (expiry, log-moneyness).
    order = np.lexsort((log_moneyness, times))
    times, log_moneyness, vols = times[order], log_moneyness[order], vols[order]
    starts_new_point = np.ones(times.size, dtype=bool)
    starts_new_point[1:] = (np.diff(times) != 0) | (np.diff(log_moneyness) != 0)
    point_starts = np.flatnonzero(starts_new_point)
    point_counts = np.diff(np.append(point_starts, times.size))
    point_times = times[point_starts]
    point_log_moneyness = log_moneyness[point_starts]
    point_vols = np.add.reduceat(vols, point_starts) / point_counts

    unique_expiries, expiry_starts = np.unique(point_times, return_index=True)
    expiry_ends = np.append(expiry_starts[1:], point_times.size)
    log_grid = np.log(grid)
    surface = np.full((unique_expiries.size, grid.size), np.nan)
    for row, (start, end) in enumerate(zip(expiry_starts, expiry_ends, strict=True)):
        observed_x = point_log_moneyness[start:end]
        # A grid point within rounding of an observed end (e.g. ln(0.8) vs ln(80/100)) is inside.
        lowest, highest = observed_x[0] - _EDGE_TOLERANCE, observed_x[-1] + _EDGE_TOLERANCE
        inside = (log_grid >= lowest) & (log_grid <= highest)
        surface[row, inside] = np.interp(log_grid[inside], observed_x, point_vols[start:end])
    return VolatilitySurface(expiries=unique_expiries, moneyness=grid, iv=surface)
