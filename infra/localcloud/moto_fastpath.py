"""A fast path for Kinesis PutRecords and GetRecords in the embedded moto server.

moto serialises every response by walking botocore's service model, field by field: for a
500-record PutRecords that costs about half the call (30 of 64 ms), and together with the O(n) shard
scans below it caps the embedded Kinesis at ~3,000 records/s, falling as the stream grows. For these
two operations, on the JSON 1.1 protocol Kinesis clients speak, the wire format *is* the shape moto's
backend works with (blobs travel as base64 strings, timestamps as epoch seconds), so this module
writes the result with ``json.dumps``. moto's backend still does all the work (validation, shard
routing, sequence numbers, iterators, limits); a body that is not JSON takes moto's own code path.

Pinned to the moto version in pyproject.toml; ``tests/functional/localcloud/test_moto_fastpath.py``
checks that both paths answer identically.
"""

from __future__ import annotations

import json
from typing import Any

_installed: dict[tuple[type, str], Any] = {}
fast_calls = {"PutRecords": 0, "GetRecords": 0}  # how often the fast path answered (for tests)


def install() -> None:
    """Patch moto's KinesisResponse and Shard (idempotent)."""
    if _installed:
        return
    from moto.kinesis.models import Shard
    from moto.kinesis.responses import KinesisResponse

    original_put = KinesisResponse.put_records
    original_get = KinesisResponse.get_records

    def _body(self: Any) -> dict[str, Any] | None:
        try:
            params = json.loads(self.body or b"{}")
        except ValueError:
            return None
        return params if isinstance(params, dict) else None

    def put_records(self: Any) -> Any:
        params = _body(self)
        if params is None:
            return original_put(self)
        fast_calls["PutRecords"] += 1
        result = self.kinesis_backend.put_records(
            params.get("StreamARN"), params.get("StreamName"), params.get("Records") or []
        )
        return json.dumps(result)

    def get_records(self: Any) -> Any:
        params = _body(self)
        if params is None:
            return original_get(self)
        fast_calls["GetRecords"] += 1
        next_iterator, records, millis_behind = self.kinesis_backend.get_records(
            params.get("StreamARN"), params.get("ShardIterator"), params.get("Limit")
        )
        return json.dumps(
            {
                "NextShardIterator": next_iterator,
                "Records": [
                    {
                        "Data": record.data,  # stored as the base64 text it arrived as
                        "PartitionKey": record.partition_key,
                        "SequenceNumber": str(record.sequence_number),
                        "ApproximateArrivalTimestamp": record.created_at,
                    }
                    for record in records
                ],
                "MillisBehindLatest": millis_behind,
            }
        )

    # moto's Shard keeps records in an OrderedDict keyed by consecutive sequence numbers, but finds the
    # newest with list(keys)[-1] on every put and scans from the oldest on every GetRecords: O(n) per
    # call, O(n²) over a stream's life. Both become O(1) / O(limit); anything not laid out as
    # expected (shards rebuilt by a split or merge) takes moto's own scan.
    original_shard_get = Shard.get_records

    def shard_get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
        records = self.records
        if not records:
            return original_shard_get(self, last_sequence_id, limit)
        first, newest = next(iter(records)), next(reversed(records))
        if newest - first + 1 != len(records):
            return original_shard_get(self, last_sequence_id, limit)
        start = max(int(last_sequence_id) + 1, first)
        stop = newest if limit is None else min(newest, start + limit - 1)
        results = [records[number] for number in range(start, stop + 1)]
        if not results:
            return [], int(last_sequence_id), 0
        behind = records[newest].created_at - results[-1].created_at
        return results, results[-1].sequence_number, int(behind * 1000)

    def get_max_sequence_number(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    patches: dict[tuple[type, str], Any] = {
        (KinesisResponse, "put_records"): put_records,
        (KinesisResponse, "get_records"): get_records,
        (Shard, "get_records"): shard_get_records,
        (Shard, "get_max_sequence_number"): get_max_sequence_number,
        (Shard, "get_min_sequence_number"): get_min_sequence_number,
    }
    for (cls, name), replacement in patches.items():
        _installed[(cls, name)] = getattr(cls, name)
        setattr(cls, name, replacement)


def uninstall() -> None:
    """Restore moto's own code path (for the equivalence test)."""
    for (cls, name), original in _installed.items():
        setattr(cls, name, original)
    _installed.clear()
