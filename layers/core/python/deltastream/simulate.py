"""Watch the simulated market and its analytics live in the terminal: ``python -m deltastream.simulate``.

Runs the quant core exactly as the feed and enrichment functions will: a GBM step per tick, a chain
snapshot with evolving volume and open interest, then implied volatility, Greeks and the chain
analytics. Stdout only; no AWS, no network.

    python -m deltastream.simulate NIFTY --speed 60      # a market minute per second
    python -m deltastream.simulate SPY --ticks 5 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from deltastream.domain import bars, chain, market, pricing, volatility
from deltastream.domain.expiries import upcoming_expiries
from deltastream.domain.market import ChainSnapshot, ChainState
from deltastream.domain.products import PRODUCTS, Product, UnknownProductError, get_product

SECONDS_PER_YEAR = 365.0 * 86400.0


@dataclass
class Session:
    """The evolving state of one product's simulated market."""

    product: Product
    rng: np.random.Generator
    now: datetime
    spot: float
    chain_state: ChainState | None = None
    bar: bars.Bar | None = None
    atm_iv_history: list[float] = field(default_factory=list)

    def step(self, market_seconds: float) -> tuple[ChainSnapshot, ChainState | None]:
        """Advance the clock, the underlying (one GBM step) and the nearest expiry's chain."""
        self.now += timedelta(seconds=market_seconds)
        dt = market_seconds / SECONDS_PER_YEAR
        p = self.product
        self.spot = float(market.gbm_step(self.spot, p.rate, p.volatility, dt, self.rng, q=p.dividend_yield))
        self.bar = bars.update(self.bar, self.spot, self.now, 15)  # a new bar when the window rolls
        expiry = upcoming_expiries(p, self.now, 1)[0]
        previous = self.chain_state
        snapshot, self.chain_state = market.evolve_chain(previous, p, self.spot, expiry, self.now, self.rng)
        return snapshot, previous


def analyse(snapshot: ChainSnapshot, session: Session) -> list[str]:
    """The lines to print for one snapshot: price, bar, and the chain analytics."""
    s = snapshot
    mids = {side: (getattr(s, side).bid + getattr(s, side).ask) / 2 for side in ("calls", "puts")}
    call_iv = pricing.implied_volatility(mids["calls"], "c", s.spot, s.strikes, s.t, s.r, s.q)
    put_iv = pricing.implied_volatility(mids["puts"], "p", s.spot, s.strikes, s.t, s.r, s.q)
    atm = chain.atm_strike(s.strikes, s.spot)
    i = int(np.flatnonzero(s.strikes == atm)[0])
    atm_iv = float(np.nanmean([call_iv[i], put_iv[i]]))
    session.atm_iv_history.append(atm_iv)
    straddle = chain.atm_straddle(s.strikes, mids["calls"], mids["puts"], s.spot)
    move = chain.expected_move(s.spot, straddle)
    levels = chain.support_resistance(s.strikes, s.calls.oi, s.puts.oi)
    atm_greeks = pricing.greeks("c", s.spot, atm, s.t, s.r, atm_iv, s.q)
    bar = session.bar
    assert bar is not None
    return [
        f"{session.now:%Y-%m-%d %H:%M:%S %Z}  {s.product} {s.spot:,.2f}  "
        f"15m bar O {bar.open:,.2f} H {bar.high:,.2f} L {bar.low:,.2f} C {bar.close:,.2f}",
        f"  expiry {s.expiry}  ATM {atm:,.0f}  IV {atm_iv:.2%}  straddle {straddle:,.2f}  "
        f"expected move ±{move.move:,.2f}  max pain {chain.max_pain(s.strikes, s.calls.oi, s.puts.oi):,.0f}",
        f"  PCR OI {chain.pcr(s.puts.oi, s.calls.oi):.2f}  "
        f"PCR vol {chain.pcr(s.puts.volume, s.calls.volume):.2f}  "
        f"support {levels.support:,.0f}  resistance {levels.resistance:,.0f}  "
        f"IV rank {volatility.iv_rank(atm_iv, session.atm_iv_history):.0f}  "
        f"ATM call Δ {float(atm_greeks['delta']):.3f} Γ {float(atm_greeks['gamma']):.5f} "
        f"vega {float(atm_greeks['vega']):.2f} θ/day {float(atm_greeks['theta']):.2f}",
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deltastream.simulate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("product", nargs="?", default="NIFTY", help=f"one of {', '.join(PRODUCTS)}")
    parser.add_argument("--speed", type=float, default=1.0, help="market seconds per real second (default 1)")
    parser.add_argument(
        "--ticks", type=int, default=0, help="stop after this many ticks (default: run until Ctrl-C)"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="real seconds between ticks (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a reproducible walk")
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=None,
        help="market clock start, ISO 8601 (default: now)",
    )
    args = parser.parse_args(argv)
    if args.speed <= 0 or args.interval < 0 or args.ticks < 0:
        parser.error("--speed must be > 0, --interval and --ticks ≥ 0")
    if args.start is not None and args.start.tzinfo is None:
        parser.error("--start needs a timezone, e.g. 2026-11-23T09:15:00+05:30")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        product = get_product(args.product.upper())
    except UnknownProductError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    start = args.start or datetime.now(UTC)
    session = Session(product, np.random.default_rng(args.seed), start, product.base_price)
    print(f"DeltaStream market simulation: {product.symbol} ({product.name}), {args.speed:g}x. Ctrl-C stops.")
    ticks = 0
    try:
        while not args.ticks or ticks < args.ticks:
            snapshot, _ = session.step(args.interval * args.speed or args.speed)
            print("\n".join(analyse(snapshot, session)), flush=True)
            ticks += 1
            if args.interval and (not args.ticks or ticks < args.ticks):
                time.sleep(args.interval)
    except KeyboardInterrupt:
        print("\nstopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
