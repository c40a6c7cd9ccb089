"""Market simulation: underlying price paths, strike ladders, a volatility smile and option chains
whose quotes, volume and open interest evolve from one snapshot to the next.

Conventions: prices in the product's currency; times in years (ACT/365, see
:mod:`deltastream.domain.expiries`); volatilities annualised; rates and dividend yields continuously
compounded; volume and open interest (OI) in contracts (lots). Every random draw comes from the numpy
``Generator`` passed in, so a seeded generator reproduces a simulation exactly.

Model summary
-------------
- **Underlying**: geometric Brownian motion, exact discretisation
  ``S_{t+dt} = S_t·exp((μ − q − σ²/2)·dt + σ·√dt·Z)``, Z ~ N(0, 1) (Hull, 9th ed., eq. 14.3/21.14).
- **Smile** (:func:`smile_vol`): ``σ(K, T) = atm(T) + skew·m + curvature·m²`` with
  ``m = ln(K/F)/√T`` clipped to ±``moneyness_clip`` and ``F = S·e^{(r−q)T}``; the ATM term structure is
  ``atm(T) = σ_base·(1 + term_premium·e^{−T/term_decay_years})`` — a short-dated premium (or discount,
  when negative) that fades towards the base level for long expiries; σ is clipped to
  [``vol_floor``, ``vol_cap``], so it is always positive and bounded. Parameters live on
  :class:`~deltastream.domain.products.SmileParams`; negative ``skew`` is the index put skew.
- **Quotes** (:func:`quote_bid_ask`): the BSM price at the smile vol is the mid; the half spread is
  ``max(tick, 0.3 %·price)·(1 + 0.5·|z|)`` with z the strike's distance from the forward in ATM
  standard deviations, so cheap and far out-of-the-money options quote wider (relative to price).
  The bid is rounded down and the ask up to the tick, bid ≥ 0 and ask ≥ bid + tick; the last trade is
  drawn uniformly on the ticks of [bid, ask] (at least one tick).
- **Open interest and volume** (:func:`evolve_chain`): a seeded chain gets OI peaked near the money
  (calls peak half an ATM standard deviation above the forward, puts as far below it) with lognormal
  noise, in whole contracts. Each later snapshot adds Poisson volume concentrated near the money, more
  when the underlying moved; OI changes by a random 10–60 % share of the new volume, increasing with a
  probability that rises with the option's price change (``0.55 + 0.35·tanh(Δp/p / 5 %)``, clipped to
  [5 %, 95 %]), so all four build-up states occur with long build-up / long unwinding dominating on
  strong moves; OI never goes below 0. Volume is cumulative per trading session (exchange-local date)
  and resets when the date changes. State is keyed by strike value: when the ladder re-centres, strikes
  still in it keep their OI and volume, new ones are seeded, and strikes that left it are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deltastream.domain.expiries import SECONDS_PER_YEAR, time_to_expiry
from deltastream.domain.pricing import price
from deltastream.domain.products import Product

__all__ = [
    "MIN_TIME_TO_EXPIRY",
    "ChainSnapshot",
    "ChainState",
    "OptionQuotes",
    "evolve_chain",
    "gbm_step",
    "quote_bid_ask",
    "seed_open_interest",
    "simulate_gbm_path",
    "smile_vol",
    "strike_ladder",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])

MIN_TIME_TO_EXPIRY: Final = 60.0 / SECONDS_PER_YEAR
"""One minute in years: the floor on T used for pricing and the smile in an expiry's last minute."""

_REL_HALF_SPREAD: Final = 0.003  # half spread as a share of the option price, before wing widening
_WING_WIDENING: Final = 0.5  # extra half spread per ATM standard deviation away from the forward
_OI_PEAK_OFFSET_SD: Final = 0.5  # calls' OI peaks this many ATM s.d. above F, puts' as far below
_OI_WIDTH_SD: Final = 1.5  # width (s.d. of the bell) of the seeded OI profile, in ATM s.d.
_OI_NOISE: Final = 0.25  # lognormal noise on seeded OI
_SEED_VOLUME_SHARE: Final = 0.05  # seeded cumulative volume as a share of seeded OI
_VOLUME_PER_SNAPSHOT: Final = 0.002  # expected new ATM volume per snapshot, share of peak OI
_VOLUME_WIDTH_SD: Final = 1.0  # width of the new-volume profile, in ATM s.d.
_ACTIVITY_MOVE: Final = 0.001  # an underlying move of this size (log return) doubles activity...
_ACTIVITY_CAP: Final = 4.0  # ...up to this many extra multiples
_OI_SHARE_RANGE: Final = (0.10, 0.60)  # share of new volume that opens or closes positions
_OI_INCREASE_BIAS: Final = 0.55  # P(OI up) with no price change: OI builds over an expiry's life
_OI_PRICE_SENSITIVITY: Final = 0.35
_OI_PRICE_SCALE: Final = 0.05  # relative option price change at which the tanh saturates
_OI_INCREASE_BOUNDS: Final = (0.05, 0.95)


# --- underlying ---------------------------------------------------------------------------------


def gbm_step(
    S: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    dt: ArrayLike,
    rng: np.random.Generator,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """One exact geometric Brownian motion step, vectorised (broadcast) over all array arguments.

    ``S·exp((mu − q − σ²/2)·dt + σ·√dt·Z)`` with Z standard normal from ``rng``. ``mu`` is the
    annualised drift (the risk-free rate for a risk-neutral path), ``q`` the continuous dividend yield,
    ``sigma`` the annualised volatility (0 gives the deterministic path), ``dt`` in years.
    The log return is N((mu − q − σ²/2)·dt, σ²·dt).
    """
    spot, drift, vol, step, dividend = _gbm_inputs(S, mu, sigma, dt, q)
    shape = np.broadcast_shapes(spot.shape, drift.shape, vol.shape, step.shape, dividend.shape)
    z = rng.standard_normal(shape)
    return spot * np.exp((drift - dividend - 0.5 * vol * vol) * step + vol * np.sqrt(step) * z)


def simulate_gbm_path(
    S0: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    dt: ArrayLike,
    n_steps: int,
    rng: np.random.Generator,
    q: ArrayLike = 0.0,
) -> FloatArray:
    """A GBM path of ``n_steps`` steps: shape ``(n_steps + 1, *broadcast shape)``, row 0 is ``S0``.

    Uses the same draws, in the same order, as ``n_steps`` successive :func:`gbm_step` calls.
    """
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    spot, drift, vol, step, dividend = _gbm_inputs(S0, mu, sigma, dt, q)
    shape = np.broadcast_shapes(spot.shape, drift.shape, vol.shape, step.shape, dividend.shape)
    z = rng.standard_normal((n_steps, *shape))
    log_steps = (drift - dividend - 0.5 * vol * vol) * step + vol * np.sqrt(step) * z
    log_path = np.concatenate([np.zeros((1, *shape)), np.cumsum(log_steps, axis=0)])
    return np.broadcast_to(spot, shape) * np.exp(log_path)


def _gbm_inputs(
    S: ArrayLike, mu: ArrayLike, sigma: ArrayLike, dt: ArrayLike, q: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    spot, drift, vol, step, dividend = (np.asarray(v, dtype=np.float64) for v in (S, mu, sigma, dt, q))
    if not np.all(spot > 0):
        raise ValueError("spot S must be > 0")
    if not np.all(vol >= 0):
        raise ValueError("volatility sigma must be >= 0")
    if not np.all(step >= 0):
        raise ValueError("time step dt must be >= 0 (years)")
    return spot, drift, vol, step, dividend


# --- strikes and smile --------------------------------------------------------------------------


def strike_ladder(spot: float, strike_step: float, n_each_side: int) -> FloatArray:
    """``2·n_each_side + 1`` strikes spaced ``strike_step`` apart, centred on the ATM strike.

    The ATM strike is ``spot`` rounded to the nearest multiple of ``strike_step`` (halves round up; at
    least one step). Non-positive strikes (only when the ladder is wider than the spot) are left out.
    """
    if not spot > 0:
        raise ValueError(f"spot must be > 0, got {spot}")
    if not strike_step > 0:
        raise ValueError(f"strike_step must be > 0, got {strike_step}")
    if n_each_side < 0:
        raise ValueError(f"n_each_side must be >= 0, got {n_each_side}")
    atm_index = max(math.floor(spot / strike_step + 0.5), 1)  # the lowest strike is one step
    indices = np.arange(atm_index - n_each_side, atm_index + n_each_side + 1, dtype=np.float64)
    # Rounded to the step's decimals so equal strikes compare equal when keying state (0.1·3 = 0.3).
    strikes: FloatArray = np.round(indices[indices > 0] * strike_step, _decimals(strike_step))
    return strikes


def smile_vol(
    product: Product,
    spot: ArrayLike,
    strikes: ArrayLike,
    t: ArrayLike,
    atm_vol: float | None = None,
) -> FloatArray:
    """Implied volatility σ(K, T) of the product's smile (formula in the module docstring).

    ``spot`` and ``strikes`` in currency units, ``t`` in years (floored at :data:`MIN_TIME_TO_EXPIRY`),
    all broadcast; ``atm_vol`` overrides the product's base ATM volatility. Always within the
    product's ``[vol_floor, vol_cap]``.
    """
    smile = product.smile
    base_vol = product.volatility if atm_vol is None else atm_vol
    if not base_vol > 0:
        raise ValueError(f"atm_vol must be > 0, got {base_vol}")
    spot_, strikes_, t_ = (np.asarray(v, dtype=np.float64) for v in (spot, strikes, t))
    if not (np.all(spot_ > 0) and np.all(strikes_ > 0)):
        raise ValueError("spot and strikes must be > 0")
    if not np.all(t_ >= 0):
        raise ValueError("time to expiry t must be >= 0 (years)")
    expiry_time = np.maximum(t_, MIN_TIME_TO_EXPIRY)
    forward = spot_ * np.exp((product.rate - product.dividend_yield) * expiry_time)
    moneyness = np.clip(
        np.log(strikes_ / forward) / np.sqrt(expiry_time), -smile.moneyness_clip, smile.moneyness_clip
    )
    atm = base_vol * (1.0 + smile.term_premium * np.exp(-expiry_time / smile.term_decay_years))
    vol = atm + smile.skew * moneyness + smile.curvature * moneyness * moneyness
    return np.asarray(np.clip(vol, smile.vol_floor, smile.vol_cap), dtype=np.float64)


# --- quotes -------------------------------------------------------------------------------------


def quote_bid_ask(
    theoretical: ArrayLike, tick_size: float, distance_sd: ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Bid and ask around ``theoretical`` prices, on the ``tick_size`` grid.

    Half spread ``max(tick, 0.3 %·price)·(1 + 0.5·|distance_sd|)`` where ``distance_sd`` is the
    strike's distance from the forward in ATM standard deviations; bid rounded down (>= 0), ask
    rounded up, and ask >= bid + one tick.
    """
    if not tick_size > 0:
        raise ValueError(f"tick_size must be > 0, got {tick_size}")
    bid_ticks, ask_ticks = _bid_ask_ticks(
        np.asarray(theoretical, dtype=np.float64), tick_size, np.abs(np.asarray(distance_sd, np.float64))
    )
    decimals = _decimals(tick_size)
    return _ticks_to_price(bid_ticks, tick_size, decimals), _ticks_to_price(ask_ticks, tick_size, decimals)


def _bid_ask_ticks(
    theoretical: FloatArray, tick_size: float, distance_sd: FloatArray
) -> tuple[IntArray, IntArray]:
    half_spread = np.maximum(tick_size, _REL_HALF_SPREAD * theoretical) * (1.0 + _WING_WIDENING * distance_sd)
    # A small tolerance keeps prices that sit on a tick (up to float noise) on that tick.
    bid_ticks = np.floor((theoretical - half_spread) / tick_size + 1e-9).astype(np.int64)
    ask_ticks = np.ceil((theoretical + half_spread) / tick_size - 1e-9).astype(np.int64)
    bid_ticks = np.maximum(bid_ticks, 0)
    ask_ticks = np.maximum(ask_ticks, bid_ticks + 1)
    return bid_ticks, ask_ticks


def _ticks_to_price(ticks: IntArray, tick_size: float, decimals: int) -> FloatArray:
    return np.round(ticks * tick_size, decimals)


def _decimals(step: float) -> int:
    """Decimal places of ``step`` as written (0.05 -> 2, 0.01 -> 2, 50.0 -> 0, 2.5 -> 1)."""
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


# --- chain snapshots and their evolving state ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionQuotes:
    """One side (calls or puts) of a chain, aligned with the chain's strikes.

    ``bid``/``ask``/``last`` in currency units on the tick grid; ``volume`` cumulative contracts traded
    this session; ``oi`` open interest in contracts. Arrays are read-only.
    """

    bid: FloatArray
    ask: FloatArray
    last: FloatArray
    volume: IntArray
    oi: IntArray


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """An option chain at one instant: market data only (implied vols are derived downstream).

    ``spot`` is the underlying price, ``t`` years to expiry (ACT/365, floored at one minute), ``r`` and
    ``q`` the continuously compounded rate and dividend yield used to price it.
    """

    product: str
    expiry: date
    spot: float
    t: float
    r: float
    q: float
    strikes: FloatArray
    calls: OptionQuotes
    puts: OptionQuotes

    def as_record_fields(self) -> dict[str, object]:
        """The chain fields of a stream record (ARCHITECTURE §3) as JSON-ready Python values.

        The caller adds ``v``, ``type``, ``tick_id`` and ``ts``.
        """
        strikes = self.strikes.tolist()
        return {
            "product": self.product,
            "expiry": self.expiry.isoformat(),
            "spot": self.spot,
            "r": self.r,
            "q": self.q,
            "strikes": strikes,
            "calls": _quote_records(strikes, self.calls),
            "puts": _quote_records(strikes, self.puts),
        }


def _quote_records(strikes: list[float], quotes: OptionQuotes) -> list[dict[str, float | int]]:
    columns = zip(
        strikes,
        quotes.bid.tolist(),
        quotes.ask.tolist(),
        quotes.last.tolist(),
        quotes.volume.tolist(),
        quotes.oi.tolist(),
        strict=True,
    )
    return [
        {"strike": strike, "bid": bid, "ask": ask, "last": last, "volume": volume, "oi": oi}
        for strike, bid, ask, last, volume, oi in columns
    ]


@dataclass(frozen=True, slots=True)
class ChainState:
    """What one product-expiry chain remembers between snapshots, per strike (sorted ascending).

    ``call_price``/``put_price`` are the theoretical prices at the previous snapshot (they set the
    sign of OI changes); ``spot`` the underlying then; ``session`` the exchange-local trading date
    whose cumulative volume ``call_volume``/``put_volume`` hold.
    """

    strikes: FloatArray
    call_oi: IntArray
    put_oi: IntArray
    call_volume: IntArray
    put_volume: IntArray
    call_price: FloatArray
    put_price: FloatArray
    spot: float
    session: date

    def as_record(self) -> dict[str, object]:
        """A JSON-ready dict (lists and ISO date) to persist between invocations."""
        return {
            "strikes": self.strikes.tolist(),
            "call_oi": self.call_oi.tolist(),
            "put_oi": self.put_oi.tolist(),
            "call_volume": self.call_volume.tolist(),
            "put_volume": self.put_volume.tolist(),
            "call_price": self.call_price.tolist(),
            "put_price": self.put_price.tolist(),
            "spot": self.spot,
            "session": self.session.isoformat(),
        }

    @classmethod
    def from_record(cls, record: dict[str, object]) -> ChainState:
        """The inverse of :meth:`as_record`."""
        session = record["session"]
        if not isinstance(session, str):
            raise ValueError("ChainState record: session must be an ISO date string")
        return cls(
            strikes=_read_only(np.asarray(record["strikes"], dtype=np.float64)),
            call_oi=_read_only(np.asarray(record["call_oi"], dtype=np.int64)),
            put_oi=_read_only(np.asarray(record["put_oi"], dtype=np.int64)),
            call_volume=_read_only(np.asarray(record["call_volume"], dtype=np.int64)),
            put_volume=_read_only(np.asarray(record["put_volume"], dtype=np.int64)),
            call_price=_read_only(np.asarray(record["call_price"], dtype=np.float64)),
            put_price=_read_only(np.asarray(record["put_price"], dtype=np.float64)),
            spot=float(record["spot"]),  # type: ignore[arg-type]
            session=date.fromisoformat(session),
        )


def seed_open_interest(
    product: Product, forward: float, strikes: FloatArray, atm_sd: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """Initial (call OI, put OI) in contracts per strike: bells in standardised moneyness.

    ``atm_sd`` is the ATM standard deviation of ln(S_T), σ_atm·√T. Calls peak
    half a standard deviation above ``forward`` (writers sell upside calls), puts as far below, scaled
    to ``product.peak_open_interest`` with lognormal noise; never negative.
    """
    z = np.log(strikes / forward) / atm_sd
    noise = rng.lognormal(-0.5 * _OI_NOISE**2, _OI_NOISE, (2, strikes.size))
    call_profile = np.exp(-0.5 * ((z - _OI_PEAK_OFFSET_SD) / _OI_WIDTH_SD) ** 2)
    put_profile = np.exp(-0.5 * ((z + _OI_PEAK_OFFSET_SD) / _OI_WIDTH_SD) ** 2)
    call_oi = np.rint(product.peak_open_interest * call_profile * noise[0]).astype(np.int64)
    put_oi = np.rint(product.peak_open_interest * put_profile * noise[1]).astype(np.int64)
    return call_oi, put_oi


def evolve_chain(
    state: ChainState | None,
    product: Product,
    spot: float,
    expiry: date,
    now: datetime,
    rng: np.random.Generator,
) -> tuple[ChainSnapshot, ChainState]:
    """The chain of ``product`` for ``expiry`` at ``now`` and the state to pass to the next call.

    ``state`` is None for the first snapshot of a chain (OI seeded near the money, some volume);
    otherwise volume grows and OI changes as described in the module docstring, relative to the state's
    previous prices and spot. ``now`` must be timezone-aware and before the expiry's close.
    Reproducible: the same inputs and generator state give the same output.
    """
    if not spot > 0:
        raise ValueError(f"spot must be > 0, got {spot}")
    t = time_to_expiry(product, expiry, now)  # raises on a naive now
    if t <= 0:
        raise ValueError(f"{product.symbol} expiry {expiry.isoformat()} has closed at {now.isoformat()}")
    t = max(t, MIN_TIME_TO_EXPIRY)
    r, q = product.rate, product.dividend_yield
    forward = spot * np.exp((r - q) * t)
    session = now.astimezone(ZoneInfo(product.timezone)).date()

    strikes = strike_ladder(spot, product.strike_step, product.strikes_each_side)
    n = strikes.size
    both_strikes = np.concatenate([strikes, strikes])
    vols = smile_vol(product, spot, both_strikes, t)
    theoretical = price(_call_put_signs(n), spot, both_strikes, t, r, vols, q)
    call_price, put_price = theoretical[:n], theoretical[n:]

    atm_sd = float(smile_vol(product, spot, forward, t)) * np.sqrt(t)
    distance_sd = np.log(strikes / forward) / atm_sd
    seeded_call_oi, seeded_put_oi = seed_open_interest(product, forward, strikes, atm_sd, rng)

    if state is None:
        call_oi, put_oi = seeded_call_oi, seeded_put_oi
        call_volume = rng.poisson(_SEED_VOLUME_SHARE * call_oi)
        put_volume = rng.poisson(_SEED_VOLUME_SHARE * put_oi)
    else:
        kept, index = _match_strikes(state.strikes, strikes, product.strike_step)
        same_session = state.session == session
        prev_call_oi = np.where(kept, state.call_oi[index], seeded_call_oi)
        prev_put_oi = np.where(kept, state.put_oi[index], seeded_put_oi)
        prev_call_volume = np.where(kept & same_session, state.call_volume[index], 0)
        prev_put_volume = np.where(kept & same_session, state.put_volume[index], 0)
        prev_call_price = np.where(kept, state.call_price[index], call_price)
        prev_put_price = np.where(kept, state.put_price[index], put_price)

        activity = 1.0 + min(abs(np.log(spot / state.spot)) / _ACTIVITY_MOVE, _ACTIVITY_CAP)
        expected_volume = (
            activity
            * _VOLUME_PER_SNAPSHOT
            * product.peak_open_interest
            * np.exp(-0.5 * (distance_sd / _VOLUME_WIDTH_SD) ** 2)
        )
        new_volume = rng.poisson(np.concatenate([expected_volume, expected_volume]))
        price_change = theoretical - np.concatenate([prev_call_price, prev_put_price])
        oi_change = _open_interest_change(
            new_volume, price_change / np.maximum(theoretical, product.tick_size), rng
        )
        call_oi = np.maximum(prev_call_oi + oi_change[:n], 0)
        put_oi = np.maximum(prev_put_oi + oi_change[n:], 0)
        call_volume = prev_call_volume + new_volume[:n]
        put_volume = prev_put_volume + new_volume[n:]

    bid_ticks, ask_ticks = _bid_ask_ticks(
        theoretical, product.tick_size, np.abs(np.concatenate([distance_sd, distance_sd]))
    )
    # Last trade: uniform over the ticks of [bid, ask], at least one tick (nothing trades at 0).
    last_ticks = bid_ticks + np.floor(rng.random(2 * n) * (ask_ticks - bid_ticks + 1)).astype(np.int64)
    last_ticks = np.clip(last_ticks, 1, ask_ticks)
    decimals = _decimals(product.tick_size)
    bid = _ticks_to_price(bid_ticks, product.tick_size, decimals)
    ask = _ticks_to_price(ask_ticks, product.tick_size, decimals)
    last = _ticks_to_price(last_ticks, product.tick_size, decimals)

    strikes = _read_only(strikes)
    snapshot = ChainSnapshot(
        product=product.symbol,
        expiry=expiry,
        spot=float(spot),
        t=t,
        r=r,
        q=q,
        strikes=strikes,
        calls=_quotes(bid[:n], ask[:n], last[:n], call_volume, call_oi),
        puts=_quotes(bid[n:], ask[n:], last[n:], put_volume, put_oi),
    )
    next_state = ChainState(
        strikes=strikes,
        call_oi=snapshot.calls.oi,
        put_oi=snapshot.puts.oi,
        call_volume=snapshot.calls.volume,
        put_volume=snapshot.puts.volume,
        call_price=_read_only(call_price),
        put_price=_read_only(put_price),
        spot=float(spot),
        session=session,
    )
    return snapshot, next_state


def _open_interest_change(
    new_volume: IntArray, relative_price_change: FloatArray, rng: np.random.Generator
) -> IntArray:
    """Signed OI change: a random share of new volume, more likely positive when the price rose."""
    low, high = _OI_INCREASE_BOUNDS
    p_increase = np.clip(
        _OI_INCREASE_BIAS + _OI_PRICE_SENSITIVITY * np.tanh(relative_price_change / _OI_PRICE_SCALE),
        low,
        high,
    )
    direction = np.where(rng.random(new_volume.size) < p_increase, 1, -1)
    share = rng.uniform(*_OI_SHARE_RANGE, new_volume.size)
    return (direction * np.rint(share * new_volume)).astype(np.int64)


def _match_strikes(
    known_strikes: FloatArray, strikes: FloatArray, strike_step: float
) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """For each of ``strikes``: whether ``known_strikes`` (sorted) holds it, and at which index."""
    if known_strikes.size == 0:
        return np.zeros(strikes.size, dtype=np.bool_), np.zeros(strikes.size, dtype=np.intp)
    index = np.clip(np.searchsorted(known_strikes, strikes), 0, known_strikes.size - 1)
    kept = np.abs(known_strikes[index] - strikes) <= 1e-6 * strike_step
    return kept, index


def _call_put_signs(n: int) -> FloatArray:
    """+1 (call) for the first ``n`` options, -1 (put) for the next ``n``."""
    return np.repeat(np.array([1.0, -1.0]), n)


def _quotes(
    bid: FloatArray, ask: FloatArray, last: FloatArray, volume: IntArray, oi: IntArray
) -> OptionQuotes:
    return OptionQuotes(
        bid=_read_only(bid),
        ask=_read_only(ask),
        last=_read_only(last),
        volume=_read_only(np.asarray(volume, dtype=np.int64)),
        oi=_read_only(np.asarray(oi, dtype=np.int64)),
    )


def _read_only(array: ArrayT) -> ArrayT:
    """``array`` marked read-only (snapshots and states are values; only this module builds them)."""
    array.setflags(write=False)
    return array
