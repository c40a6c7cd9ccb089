"""Option-chain analytics on plain arrays: PCR, ATM, expected move, max pain, OI build-up, support/resistance.

Every function takes array-likes (one value per strike, all of the same length) so it does not
depend on how a chain is stored. Strikes may arrive in any order; they must be finite, positive
and unique within one chain (one expiry). Open interest and volume must be finite and ≥ 0.
Prices are in the underlying's currency units, OI and volume in contracts, times in years.

Conventions chosen here (also stated in each docstring):

- **PCR** divides totals: Σ put / Σ call. Zero calls give ``inf`` (puts > 0) or ``nan`` (0/0),
  never ``ZeroDivisionError``; callers that write JSON map non-finite values to ``null``.
- **ATM strike** is the listed strike nearest the spot; an exact tie goes to the lower strike.
- **Expected move** (straddle based) is the ATM straddle price: under Black-Scholes with zero
  carry the ATM straddle equals E|S_T − K| ≈ E|S_T − S|, the risk-neutral mean absolute move.
  ``factor`` (default 1.0) scales it for desks that quote 0.85 × straddle.
  The **one-sigma move** is S·σ_ATM·√t (ATM straddle ≈ √(2/π) ≈ 0.80 of it).
- **Max pain** is the listed strike P minimising the intrinsic value paid to holders at expiry,
  pain(P) = Σ call_oiᵢ·max(P − Kᵢ, 0) + Σ put_oiᵢ·max(Kᵢ − P, 0); ties go to the lowest strike.
- **Support** is the strike with the largest put OI, **resistance** the strike with the largest
  call OI; ties go to the lower strike; a side with no OI at all gives ``nan``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "AlignedSnapshots",
    "Buildup",
    "ExpectedMove",
    "MaxPainCurve",
    "OIBuildup",
    "SupportResistance",
    "align_snapshots",
    "atm_straddle",
    "atm_strike",
    "expected_move",
    "max_pain",
    "max_pain_curve",
    "max_pain_naive",
    "oi_buildup",
    "one_sigma_move",
    "pcr",
    "support_resistance",
]


# --------------------------------------------------------------------------------------------------
# Input validation (shared by every function below)
# --------------------------------------------------------------------------------------------------


def _as_vector(name: str, values: ArrayLike, *, allow_nan: bool = False) -> FloatArray:
    """Convert to a 1-D float64 array; reject empty input, ±inf, and NaN unless allowed."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():  # one pass on the common (all finite) path
        if np.isinf(array).any():
            raise ValueError(f"{name} contains infinite values")
        if not allow_nan:
            raise ValueError(f"{name} contains NaN")
    return array


def _as_counts(name: str, values: ArrayLike) -> FloatArray:
    """Open interest or volume: finite and ≥ 0."""
    array = _as_vector(name, values)
    if (array < 0).any():
        raise ValueError(f"{name} contains negative values")
    return array


def _as_strikes(strikes: ArrayLike, name: str = "strikes") -> tuple[FloatArray, NDArray[np.intp] | slice]:
    """Strikes: finite, > 0 and unique (one expiry's chain lists each strike once).

    Returns the strikes as given and an index sorting them ascending (reused by callers); the
    index is ``slice(None)`` when they already are, which spares the sort on the common path.
    """
    array = _as_vector(name, strikes)
    if (array <= 0).any():
        raise ValueError(f"{name} must be positive")
    if (np.diff(array) > 0).all():
        return array, slice(None)
    order = np.argsort(array)
    if (np.diff(array[order]) == 0).any():
        raise ValueError(f"{name} contains duplicates")
    return array, order


def _require_same_length(**arrays: FloatArray) -> None:
    lengths = {name: array.size for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"length mismatch: {detail}")


def _as_positive_scalar(name: str, value: float) -> float:
    number = float(value)
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return number


# --------------------------------------------------------------------------------------------------
# Put/call ratio, ATM, straddle, expected move
# --------------------------------------------------------------------------------------------------


def pcr(put_values: ArrayLike, call_values: ArrayLike) -> float:
    """Put/call ratio Σ put_values / Σ call_values (use it with open interest or with volume).

    Both arguments are per-strike arrays of one chain (same length) or scalar totals; values must be
    finite and ≥ 0. When the calls sum to zero the ratio is ``inf`` if the puts are positive and
    ``nan`` if both are zero (0/0): never ``ZeroDivisionError``.
    """
    puts = _as_counts("put_values", put_values)
    calls = _as_counts("call_values", call_values)
    _require_same_length(put_values=puts, call_values=calls)
    total_puts = float(puts.sum())
    total_calls = float(calls.sum())
    if total_calls == 0.0:
        return float("nan") if total_puts == 0.0 else float("inf")
    return total_puts / total_calls


def _atm_index(strikes: FloatArray, spot: float) -> int:
    """Index of the strike nearest ``spot``; an exact tie goes to the lower strike."""
    distance = np.abs(strikes - spot)
    nearest = distance == distance.min()
    # Several indices only on an exact tie: take the lowest strike among them.
    candidates = np.flatnonzero(nearest)
    return int(candidates[np.argmin(strikes[candidates])])


def atm_strike(strikes: ArrayLike, spot: float) -> float:
    """The at-the-money strike: the listed strike nearest to ``spot`` (|K − S| minimal).

    On an exact tie (spot halfway between two strikes) the lower strike is returned.
    """
    strike_array, _ = _as_strikes(strikes)
    spot_value = _as_positive_scalar("spot", spot)
    return float(strike_array[_atm_index(strike_array, spot_value)])


def atm_straddle(strikes: ArrayLike, call_prices: ArrayLike, put_prices: ArrayLike, spot: float) -> float:
    """Price of the ATM straddle: call price + put price at :func:`atm_strike`.

    Prices are premiums per unit of underlying (mid or last, the caller's choice). A missing quote
    (NaN) at the ATM strike makes the result NaN; quotes elsewhere may be NaN. Negative prices are
    rejected.
    """
    strike_array, _ = _as_strikes(strikes)
    calls = _as_vector("call_prices", call_prices, allow_nan=True)
    puts = _as_vector("put_prices", put_prices, allow_nan=True)
    _require_same_length(strikes=strike_array, call_prices=calls, put_prices=puts)
    if (calls < 0).any() or (puts < 0).any():
        raise ValueError("option prices must be ≥ 0")
    index = _atm_index(strike_array, _as_positive_scalar("spot", spot))
    return float(calls[index] + puts[index])


@dataclass(frozen=True, slots=True)
class ExpectedMove:
    """A symmetric move around the spot: ``lower = spot − move``, ``upper = spot + move``."""

    move: float
    lower: float
    upper: float


def expected_move(spot: float, straddle_price: float, factor: float = 1.0) -> ExpectedMove:
    """Straddle-based expected move: ``move = factor × ATM straddle price``.

    Definition: under Black-Scholes with zero carry an ATM straddle costs E|S_T − K|, the
    risk-neutral expected absolute move to expiry (discounting and the K ≠ S offset ignored), so
    the market's expected move is the straddle price itself (``factor = 1``). Some desks quote
    0.85 × straddle; pass ``factor=0.85`` for that. Note the one-sigma move
    (:func:`one_sigma_move`) is larger: straddle ≈ √(2/π)·S·σ√t ≈ 0.80·S·σ√t.
    """
    spot_value = _as_positive_scalar("spot", spot)
    straddle = float(straddle_price)
    if not np.isfinite(straddle) or straddle < 0:
        raise ValueError(f"straddle_price must be finite and ≥ 0, got {straddle_price!r}")
    move = _as_positive_scalar("factor", factor) * straddle
    return ExpectedMove(move=move, lower=spot_value - move, upper=spot_value + move)


def one_sigma_move(spot: float, atm_iv: float, t: float) -> ExpectedMove:
    """One-standard-deviation move to expiry: ``move = S·σ_ATM·√t``.

    ``atm_iv`` is the annualised implied volatility as a decimal (0.15 = 15 %), ``t`` the time to
    expiry in years. This is the usual linear approximation of the lognormal range S·e^{±σ√t}.
    """
    spot_value = _as_positive_scalar("spot", spot)
    sigma = float(atm_iv)
    years = float(t)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"atm_iv must be finite and ≥ 0, got {atm_iv!r}")
    if not np.isfinite(years) or years < 0:
        raise ValueError(f"t must be finite and ≥ 0 (years), got {t!r}")
    move = spot_value * sigma * float(np.sqrt(years))
    return ExpectedMove(move=move, lower=spot_value - move, upper=spot_value + move)


# --------------------------------------------------------------------------------------------------
# Max pain
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaxPainCurve:
    """Total payout to option holders for an expiry at each listed strike.

    ``strikes`` ascending, ``pain[i]`` = payout (currency × contracts) if the underlying settles at
    ``strikes[i]``; ``max_pain_strike`` is the strike of minimal pain (lowest strike on a tie).
    """

    strikes: FloatArray
    pain: FloatArray
    max_pain_strike: float


def _sorted_oi_chain(
    strikes: ArrayLike, call_oi: ArrayLike, put_oi: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate a (strikes, call OI, put OI) chain and return it sorted by strike."""
    strike_array, order = _as_strikes(strikes)
    calls = _as_counts("call_oi", call_oi)
    puts = _as_counts("put_oi", put_oi)
    _require_same_length(strikes=strike_array, call_oi=calls, put_oi=puts)
    return strike_array[order], calls[order], puts[order]


def max_pain_curve(strikes: ArrayLike, call_oi: ArrayLike, put_oi: ArrayLike) -> MaxPainCurve:
    """Pain curve and max-pain strike in O(n log n) (a sort, then O(n) prefix sums).

    pain(P) = Σᵢ call_oiᵢ·max(P − Kᵢ, 0) + Σᵢ put_oiᵢ·max(Kᵢ − P, 0), for P over the listed strikes.
    With strikes sorted, moving P from K_j to K_{j+1} changes the pain by
    (K_{j+1} − K_j)·(Σ_{i≤j} call_oiᵢ − Σ_{i>j} put_oiᵢ), so the curve is pain(K_0) plus a cumulative
    sum of those steps; summing bounded steps avoids the cancellation of the K·Σoi − ΣK·oi form.
    Ties go to the lowest strike. Strikes may be unsorted; see :func:`max_pain_naive` for the O(n²)
    reference. Rounding error is of order ε·Σoi·(K_max − K_min); with integer OI and integer
    strikes every value is exact while it stays below 2⁵³.
    """
    sorted_strikes, sorted_calls, sorted_puts = _sorted_oi_chain(strikes, call_oi, put_oi)

    # pain at the lowest strike: only puts are in the money there.
    pain_at_lowest = float(np.dot(sorted_puts, sorted_strikes - sorted_strikes[0]))
    # Σ_{i≤j} call_oi − Σ_{i>j} put_oi = Σ_{i≤j} (call_oi + put_oi) − Σ put_oi: one prefix sum.
    calls_below_minus_puts_above = np.cumsum(sorted_calls + sorted_puts)[:-1] - sorted_puts.sum()
    steps = np.diff(sorted_strikes) * calls_below_minus_puts_above
    pain = np.empty_like(sorted_strikes)
    pain[0] = pain_at_lowest
    np.cumsum(steps, out=pain[1:])
    pain[1:] += pain_at_lowest
    # argmin returns the first minimum, i.e. the lowest strike on a tie.
    return MaxPainCurve(
        strikes=sorted_strikes, pain=pain, max_pain_strike=float(sorted_strikes[np.argmin(pain)])
    )


def max_pain(strikes: ArrayLike, call_oi: ArrayLike, put_oi: ArrayLike) -> float:
    """Max-pain strike: the listed strike minimising the payout to holders (see :func:`max_pain_curve`).

    O(n log n); 10,000 strikes take well under a millisecond. Ties go to the lowest strike.
    """
    return max_pain_curve(strikes, call_oi, put_oi).max_pain_strike


def max_pain_naive(strikes: ArrayLike, call_oi: ArrayLike, put_oi: ArrayLike) -> float:
    """Reference O(n²) max pain: evaluate pain(P) directly at every listed strike P.

    Kept beside :func:`max_pain` for tests and benchmarks; same definition, same tie rule (lowest
    strike), O(n) memory.
    """
    strike_array, calls, puts = _sorted_oi_chain(strikes, call_oi, put_oi)
    best_strike = float("nan")
    best_pain = float("inf")
    for settlement in strike_array:  # ascending
        pain = float(
            np.dot(calls, np.maximum(settlement - strike_array, 0.0))
            + np.dot(puts, np.maximum(strike_array - settlement, 0.0))
        )
        if pain < best_pain:  # strict: the first (lowest) strike wins a tie
            best_pain = pain
            best_strike = float(settlement)
    return best_strike


# --------------------------------------------------------------------------------------------------
# OI build-up
# --------------------------------------------------------------------------------------------------


class Buildup(enum.StrEnum):
    """Per-strike reading of how price and open interest moved between two snapshots."""

    LONG_BUILDUP = "LONG_BUILDUP"  # price ↑, OI ↑: new longs
    SHORT_BUILDUP = "SHORT_BUILDUP"  # price ↓, OI ↑: new shorts
    SHORT_COVERING = "SHORT_COVERING"  # price ↑, OI ↓: shorts closing
    LONG_UNWINDING = "LONG_UNWINDING"  # price ↓, OI ↓: longs closing
    NEUTRAL = "NEUTRAL"  # price or OI unchanged (within tolerance), or no previous data


# Rows: price down / unchanged / up; columns: OI down / unchanged / up.
_BUILDUP_TABLE: NDArray[np.str_] = np.array(
    [
        Buildup.LONG_UNWINDING.value, Buildup.NEUTRAL.value, Buildup.SHORT_BUILDUP.value,
        Buildup.NEUTRAL.value, Buildup.NEUTRAL.value, Buildup.NEUTRAL.value,
        Buildup.SHORT_COVERING.value, Buildup.NEUTRAL.value, Buildup.LONG_BUILDUP.value,
    ]
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OIBuildup:
    """Per-strike build-up labels (a ``str`` array of :class:`Buildup` values) and the changes.

    ``price_change = curr_price − prev_price``, ``oi_change = curr_oi − prev_oi``.
    """

    labels: NDArray[np.str_]
    price_change: FloatArray
    oi_change: FloatArray


def oi_buildup(
    prev_price: ArrayLike,
    curr_price: ArrayLike,
    prev_oi: ArrayLike,
    curr_oi: ArrayLike,
    *,
    price_tolerance: float = 0.0,
    oi_tolerance: float = 0.0,
) -> OIBuildup:
    """Classify each strike from its option price change and open-interest change (vectorised).

    Arrays are aligned per strike (see :func:`align_snapshots`). A change whose absolute value is
    ≤ its tolerance counts as no change; if either price or OI did not change the label is
    ``NEUTRAL``. Labels: price ↑ OI ↑ ``LONG_BUILDUP``, price ↓ OI ↑ ``SHORT_BUILDUP``,
    price ↑ OI ↓ ``SHORT_COVERING``, price ↓ OI ↓ ``LONG_UNWINDING``.
    Prices must be finite and ≥ 0, OI finite and ≥ 0.
    """
    previous_price = _as_vector("prev_price", prev_price)
    current_price = _as_vector("curr_price", curr_price)
    previous_oi = _as_counts("prev_oi", prev_oi)
    current_oi = _as_counts("curr_oi", curr_oi)
    _require_same_length(
        prev_price=previous_price, curr_price=current_price, prev_oi=previous_oi, curr_oi=current_oi
    )
    if (previous_price < 0).any() or (current_price < 0).any():
        raise ValueError("option prices must be ≥ 0")
    if not (price_tolerance >= 0 and oi_tolerance >= 0):
        raise ValueError("tolerances must be ≥ 0")

    price_change = current_price - previous_price
    oi_change = current_oi - previous_oi
    # Direction of each change (-1, 0, +1 beyond its tolerance) → one of 9 cells of a lookup table.
    price_direction = (price_change > price_tolerance).astype(np.intp) - (price_change < -price_tolerance)
    oi_direction = (oi_change > oi_tolerance).astype(np.intp) - (oi_change < -oi_tolerance)
    labels = _BUILDUP_TABLE[3 * (price_direction + 1) + (oi_direction + 1)]
    return OIBuildup(labels=labels, price_change=price_change, oi_change=oi_change)


@dataclass(frozen=True, slots=True)
class AlignedSnapshots:
    """Two snapshots of one side of a chain, aligned on the current snapshot's strikes (ascending).

    ``is_new[i]`` marks strikes absent from the previous snapshot; their previous values are copied
    from the current ones (zero change), so :func:`oi_buildup` labels them ``NEUTRAL``.
    """

    strikes: FloatArray
    prev_price: FloatArray
    curr_price: FloatArray
    prev_oi: FloatArray
    curr_oi: FloatArray
    is_new: NDArray[np.bool_]


def align_snapshots(
    prev_strikes: ArrayLike,
    prev_price: ArrayLike,
    prev_oi: ArrayLike,
    curr_strikes: ArrayLike,
    curr_price: ArrayLike,
    curr_oi: ArrayLike,
) -> AlignedSnapshots:
    """Align a previous and a current snapshot by strike, keeping the current snapshot's strikes.

    Strikes only in the previous snapshot (delisted) are dropped. Strikes only in the current one
    (newly listed) have no previous data: they are kept with zero change and ``is_new`` set.
    Strikes are matched by exact float equality (listed strikes are exact decimal values).
    """
    previous_strikes, previous_order = _as_strikes(prev_strikes, "prev_strikes")
    previous_price = _as_vector("prev_price", prev_price)
    previous_oi = _as_counts("prev_oi", prev_oi)
    current_strikes, order = _as_strikes(curr_strikes, "curr_strikes")
    current_price = _as_vector("curr_price", curr_price)
    current_oi = _as_counts("curr_oi", curr_oi)
    _require_same_length(prev_strikes=previous_strikes, prev_price=previous_price, prev_oi=previous_oi)
    _require_same_length(curr_strikes=current_strikes, curr_price=current_price, curr_oi=current_oi)

    strikes = current_strikes[order]
    current_price = current_price[order]
    current_oi = current_oi[order]

    previous_sorted = previous_strikes[previous_order]
    position = np.minimum(np.searchsorted(previous_sorted, strikes), previous_sorted.size - 1)
    found = previous_sorted[position] == strikes
    source = np.arange(previous_strikes.size)[previous_order][position]
    aligned_prev_price = np.where(found, previous_price[source], current_price)
    aligned_prev_oi = np.where(found, previous_oi[source], current_oi)
    return AlignedSnapshots(
        strikes=strikes,
        prev_price=aligned_prev_price,
        curr_price=current_price,
        prev_oi=aligned_prev_oi,
        curr_oi=current_oi,
        is_new=~found,
    )


# --------------------------------------------------------------------------------------------------
# Support and resistance
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SupportResistance:
    """Support = strike of max put OI, resistance = strike of max call OI.

    ``supports`` / ``resistances`` list the top-N strikes by put / call OI, largest OI first (lower
    strike first on equal OI), strikes with zero OI left out. ``support``/``resistance`` are their
    first elements, or ``nan`` when that side has no open interest.
    """

    support: float
    resistance: float
    supports: FloatArray
    resistances: FloatArray


def _top_strikes_by_oi(strikes: FloatArray, oi: FloatArray, top_n: int) -> FloatArray:
    # lexsort: last key is primary → OI descending, then strike ascending.
    order = np.lexsort((strikes, -oi))
    ranked = order[oi[order] > 0][:top_n]
    return strikes[ranked]


def support_resistance(
    strikes: ArrayLike, call_oi: ArrayLike, put_oi: ArrayLike, top_n: int = 1
) -> SupportResistance:
    """Support (max put OI strike) and resistance (max call OI strike), plus the top-N of each.

    Ties on OI go to the lower strike. A side whose OI is all zero yields ``nan`` and an empty
    top-N list. ``top_n`` must be ≥ 1.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be ≥ 1, got {top_n}")
    strike_array, calls, puts = _sorted_oi_chain(strikes, call_oi, put_oi)
    supports = _top_strikes_by_oi(strike_array, puts, top_n)
    resistances = _top_strikes_by_oi(strike_array, calls, top_n)
    return SupportResistance(
        support=float(supports[0]) if supports.size else float("nan"),
        resistance=float(resistances[0]) if resistances.size else float("nan"),
        supports=supports,
        resistances=resistances,
    )
