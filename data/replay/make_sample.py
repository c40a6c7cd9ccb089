"""Write ``sample.jsonl``: 30 ticks of NIFTY and SPY from the synthetic provider, chains every 10 ticks.

Run once from the repository root (the output is committed; a fixed seed and start time make it
reproducible)::

    PYTHONPATH=layers/core/python .venv/bin/python data/replay/make_sample.py
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deltastream.domain.products import get_product
from deltastream.services.feed import build_records
from deltastream.services.providers import SyntheticProvider

OUTPUT = Path(__file__).with_name("sample.jsonl")
PRODUCTS = ("NIFTY", "SPY")
TICKS = 30
CHAIN_EVERY = 10
TICK_INTERVAL_S = 1.0
START = datetime(2025, 11, 3, 4, 0, tzinfo=UTC)  # a Monday, 09:30 IST
SEED = 20251103


class MemoryFeedState:
    """ports.FeedState in a dict (the sample needs no Redis)."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}

    def next_tick_ids(self, product: str, count: int) -> range:
        return range(count)

    def load(self, product: str) -> dict[str, Any] | None:
        return self.states.get(product)

    def save(self, product: str, state: Mapping[str, Any]) -> None:
        self.states[product] = dict(state)


def main() -> None:
    provider = SyntheticProvider(
        [get_product(symbol) for symbol in PRODUCTS],
        MemoryFeedState(),
        expiries_per_product=1,
        tick_interval_s=TICK_INTERVAL_S,
        seed=SEED,
    )
    provider.start(START)
    lines: list[str] = []
    for index in range(TICKS):
        now = START + timedelta(seconds=index * TICK_INTERVAL_S)
        tick = provider.step(now, chains_due=index % CHAIN_EVERY == 0)
        for record in build_records(tick, dict.fromkeys(tick.products, 0), now):
            del record["v"], record["tick_id"]  # the replay format leaves them to the feed
            lines.append(json.dumps(record, separators=(",", ":")))
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} records to {OUTPUT}")


if __name__ == "__main__":
    main()
