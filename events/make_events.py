"""Regenerate events/EnrichFunction.json: a Kinesis event carrying real feed records (two NIFTY
ticks and a chain snapshot from the synthetic market), for `sam local invoke EnrichFunction`.

    .venv/bin/python events/make_events.py
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "infra"))

from deltastream.domain import market
from deltastream.domain.expiries import upcoming_expiries
from deltastream.domain.products import get_product
from deltastream.records import encode
from localcloud.kinesis import StreamRecord, kinesis_event

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/deltastream-ticks-dev"


def main() -> None:
    product = get_product("NIFTY")
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    rng = np.random.default_rng(20261123)
    spot = product.base_price
    records = []
    for tick_id in (1, 2):
        at = now + timedelta(seconds=tick_id - 1)
        spot = float(market.gbm_step(spot, product.rate, product.volatility, 1 / (365 * 86_400), rng))
        price = round(spot, 2)
        records.append(
            {
                "v": 1,
                "type": "underlying",
                "product": "NIFTY",
                "tick_id": tick_id,
                "price": price,
                "ts": at.isoformat(),
            }
        )
    expiry = upcoming_expiries(product, now, 1)[0]
    snapshot, _ = market.evolve_chain(None, product, spot, expiry, now + timedelta(seconds=1), rng)
    records.append(
        {"v": 1, "type": "chain", "tick_id": 2, "ts": records[-1]["ts"], **snapshot.as_record_fields()}
    )
    stream_records = [
        StreamRecord(f"4960{i:050d}", "NIFTY", encode(record), now.timestamp() + i)
        for i, record in enumerate(records, start=1)
    ]
    event = kinesis_event(
        stream_records,
        shard_id="shardId-000000000000",
        stream_arn=STREAM_ARN,
        region="us-east-1",
        invoke_identity_arn="arn:aws:iam::123456789012:role/deltastream-enrich",
    )
    target = Path(__file__).with_name("EnrichFunction.json")
    target.write_text(json.dumps(event, indent=2) + "\n")
    print(f"wrote {target} ({len(stream_records)} records)")


if __name__ == "__main__":
    main()
