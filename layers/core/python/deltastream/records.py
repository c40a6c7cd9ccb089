"""The records on the streams (ARCHITECTURE §3): schema version 1, JSON, one record per message.

``parse_record`` validates what arrives (the enrichment function reports anything invalid as a batch
item failure, with the reason); ``idempotency_key`` is the identity that makes replays harmless.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

import orjson

SCHEMA_VERSION: Final = 1
RECORD_TYPES: Final = ("underlying", "chain")
QUOTE_FIELDS: Final = ("strike", "bid", "ask", "last", "volume", "oi")
MAX_RECORD_BYTES: Final = 1024 * 1024  # Kinesis record limit


class InvalidRecord(ValueError):
    """A record that does not follow the schema; the message says why."""


def idempotency_key(record: dict[str, Any]) -> str:
    """``product:type:expiry:tick_id`` — the record's identity across redeliveries."""
    return f"{record['product']}:{record['type']}:{record.get('expiry') or '-'}:{record['tick_id']}"


def encode(record: dict[str, Any]) -> bytes:
    """Compact JSON (orjson: non-finite floats become null, as JSON has no NaN)."""
    data = orjson.dumps(record)
    if len(data) > MAX_RECORD_BYTES:
        raise InvalidRecord(f"record {idempotency_key(record)} is {len(data)} bytes, over Kinesis' 1 MiB")
    return data


def _require(record: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in record:
        raise InvalidRecord(f"missing field {name!r}")
    value = record[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRecord(
            f"field {name!r} must be {getattr(kind, '__name__', kind)}, got {type(value).__name__}"
        )
    return value


def _finite_number(record: dict[str, Any], name: str, *, positive: bool = True) -> float:
    value = float(_require(record, name, (int, float)))
    if not math.isfinite(value) or (positive and value <= 0):
        raise InvalidRecord(
            f"field {name!r} must be a finite {'positive ' if positive else ''}number, got {value}"
        )
    return value


def parse_record(data: bytes) -> dict[str, Any]:
    """Decode and validate one stream record; raises :class:`InvalidRecord` with the reason."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidRecord(f"not JSON: {error}") from None
    if not isinstance(record, dict):
        raise InvalidRecord(f"a record must be a JSON object, got {type(record).__name__}")
    version = record.get("v")
    if version != SCHEMA_VERSION:
        raise InvalidRecord(f"unsupported schema version {version!r} (expected {SCHEMA_VERSION})")
    kind = _require(record, "type", str)
    if kind not in RECORD_TYPES:
        raise InvalidRecord(f"unknown record type {kind!r}")
    _require(record, "product", str)
    tick_id = _require(record, "tick_id", int)
    if tick_id < 0:
        raise InvalidRecord(f"tick_id must be ≥ 0, got {tick_id}")
    ts = _require(record, "ts", str)
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRecord(f"ts is not an ISO-8601 time: {ts!r}") from None
    if moment.tzinfo is None:
        raise InvalidRecord(f"ts must carry a timezone, got {ts!r}")
    if kind == "underlying":
        _finite_number(record, "price")
        return record
    _require(record, "expiry", str)
    _finite_number(record, "spot")
    _finite_number(record, "r", positive=False)
    _finite_number(record, "q", positive=False)
    strikes = _require(record, "strikes", list)
    if not strikes:
        raise InvalidRecord("a chain needs at least one strike")
    for side in ("calls", "puts"):
        quotes = _require(record, side, list)
        if len(quotes) != len(strikes):
            raise InvalidRecord(f"{side} has {len(quotes)} quotes for {len(strikes)} strikes")
        for quote in quotes:
            if not isinstance(quote, dict) or any(f not in quote for f in QUOTE_FIELDS):
                raise InvalidRecord(f"each quote in {side} needs {', '.join(QUOTE_FIELDS)}")
    return record
