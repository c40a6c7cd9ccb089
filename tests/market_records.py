"""Ticks-stream records the way the feed writes them (ARCHITECTURE §3), for tests that put their
own market data through the local pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from deltastream.domain import market
from deltastream.domain.expiries import upcoming_expiries
from deltastream.domain.products import get_product


def market_records(
    product: str, ticks: int, *, first_tick: int, seed: int, chains_every: int = 1, step_ms: int = 250
) -> list[dict[str, Any]]:
    """``ticks`` underlying records (a GBM walk from the product's base price, ``step_ms`` apart, tick
    ids from ``first_tick``) and a chain of the nearest expiry every ``chains_every`` ticks."""
    spec = get_product(product)
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    expiry = upcoming_expiries(spec, now, 1)[0]
    spot, state, records = spec.base_price, None, []
    for i in range(ticks):
        at = now + timedelta(milliseconds=step_ms * i)
        spot = float(market.gbm_step(spot, spec.rate, spec.volatility, 1 / (365 * 86_400), rng))
        tick_id, ts = first_tick + i, at.isoformat()
        records.append(
            {"v": 1, "type": "underlying", "product": product, "tick_id": tick_id, "price": spot, "ts": ts}
        )
        if i % chains_every == 0:
            snapshot, state = market.evolve_chain(state, spec, spot, expiry, at, rng)
            records.append(
                {"v": 1, "type": "chain", "tick_id": tick_id, "ts": ts, **snapshot.as_record_fields()}
            )
    return records
