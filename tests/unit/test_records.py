"""Stream records (ARCHITECTURE §3): what the enrichment accepts and why it rejects the rest."""

from __future__ import annotations

import json

import pytest

from deltastream.records import InvalidRecord, encode, idempotency_key, parse_record

TICK = {
    "v": 1,
    "type": "underlying",
    "product": "NIFTY",
    "tick_id": 7,
    "price": 25_000.5,
    "ts": "2026-11-23T04:00:00Z",
}


def test_a_valid_record_round_trips_and_has_its_idempotency_key() -> None:
    assert parse_record(encode(TICK)) == TICK
    assert idempotency_key(TICK) == "NIFTY:underlying:-:7"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**TICK, "v": 2}).encode(), "schema version"),
        (json.dumps({**TICK, "type": "trade"}).encode(), "unknown record type"),
        (json.dumps({k: v for k, v in TICK.items() if k != "price"}).encode(), "missing field 'price'"),
        (json.dumps({**TICK, "price": -1}).encode(), "positive"),
        (json.dumps({**TICK, "tick_id": "7"}).encode(), "tick_id"),
        (json.dumps({**TICK, "ts": "yesterday"}).encode(), "ISO-8601"),
        (json.dumps({**TICK, "ts": "2026-11-23T04:00:00"}).encode(), "timezone"),
        (
            json.dumps(
                {
                    **TICK,
                    "type": "chain",
                    "expiry": "2026-11-24",
                    "spot": 1.0,
                    "r": 0.0,
                    "q": 0.0,
                    "strikes": [1.0],
                    "calls": [],
                    "puts": [],
                }
            ).encode(),
            "calls has 0 quotes",
        ),
    ],
)
def test_invalid_records_are_rejected_with_the_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        parse_record(payload)
