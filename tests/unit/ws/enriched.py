"""Enriched records as the enrichment really writes them (the Enricher on in-memory ports)."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import orjson

from tests.unit.services.test_enrich import NOW, chain_records, enricher, underlying


@functools.cache
def _enriched(snapshots: int) -> tuple[bytes, ...]:
    service, _, _, sink = enricher()
    ticks = [underlying("NIFTY", 100 + i, 25_000.0 + i, NOW + timedelta(seconds=i)) for i in range(3)]
    service.enrich([*ticks, *chain_records("NIFTY", snapshots)])
    return tuple(data for _, data in sink.records)


def enriched_records(snapshots: int = 2) -> list[dict[str, Any]]:
    """3 NIFTY underlyings (tick ids 100-102) then ``snapshots`` chains of the nearest expiry."""
    return [orjson.loads(data) for data in _enriched(snapshots)]


def latest_summary() -> dict[str, Any]:
    """What the enrichment caches as ds:latest:summary for those records."""
    service, latest, _, _ = enricher()
    service.enrich(chain_records("NIFTY", 1))
    return dict(latest.writes.summaries["NIFTY"])


def wide_chain(strikes: int) -> dict[str, Any]:
    """An enriched chain stretched to ``strikes`` strikes (copies of its quotes, strikes re-spaced)."""
    chain = next(r for r in enriched_records() if r["type"] == "enriched_chain")
    step = 50.0
    first = chain["atm_strike"] - step * (strikes // 2)
    ladder = [first + step * i for i in range(strikes)]
    n = len(chain["calls"])
    stretched = dict(chain, strikes=ladder)
    for side in ("calls", "puts", "buildup"):
        stretched[side] = [dict(chain[side][i % n], strike=k) for i, k in enumerate(ladder)]
    return stretched
