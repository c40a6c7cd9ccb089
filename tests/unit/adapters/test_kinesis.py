"""KinesisSink: request limits, partial failures retried in per-key order, nothing dropped silently."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from deltastream.adapters.kinesis import (
    MAX_BYTES_PER_RECORD,
    MAX_BYTES_PER_REQUEST,
    KinesisSink,
    RecordsNotDelivered,
    batches,
)

THROTTLED = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
INTERNAL = {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."}
KMS_DENIED = {"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "access denied"}


class ScriptedKinesis:
    """put_records answering from a script: one list of per-entry failures (index → error) per call."""

    def __init__(self, *script: dict[int, dict[str, str]]) -> None:
        self.script: Iterator[dict[int, dict[str, str]]] = iter(script)
        self.calls: list[list[tuple[str, bytes]]] = []

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        assert StreamName == "ticks"
        self.calls.append([(r["PartitionKey"], r["Data"]) for r in Records])
        failures = next(self.script, {})
        results = [
            failures.get(i, {"SequenceNumber": str(i), "ShardId": "shardId-0"}) for i in range(len(Records))
        ]
        return {"FailedRecordCount": len(failures), "Records": results}


def records(*keys: str) -> list[tuple[str, bytes]]:
    return [(key, f"{key}{i}".encode()) for i, key in enumerate(keys)]


def sink_for(client: object, **kwargs: Any) -> tuple[KinesisSink, list[float]]:
    slept: list[float] = []
    sink = KinesisSink(client, "ticks", sleep=slept.append, rng=random.Random(0), **kwargs)  # type: ignore[arg-type]
    return sink, slept


def test_all_delivered_in_one_request() -> None:
    client = ScriptedKinesis()
    sink, slept = sink_for(client)

    sink.put(records("A", "B", "A"))

    assert client.calls == [records("A", "B", "A")]
    assert slept == []


def test_requests_hold_at_most_500_records() -> None:
    client = ScriptedKinesis()
    sink, _ = sink_for(client)
    many = [("K", b"x") for _ in range(1201)]

    sink.put(many)

    assert [len(call) for call in client.calls] == [500, 500, 201]


def test_requests_hold_at_most_5_mib_partition_keys_included() -> None:
    key = "NIFTY"
    big = b"x" * (MAX_BYTES_PER_RECORD - len(key))  # exactly 1 MiB with its key

    sizes = [len(batch) for batch in batches([(key, big)] * 11)]

    assert sizes == [5, 5, 1]
    assert 5 * (len(big) + len(key)) == MAX_BYTES_PER_REQUEST


def test_a_record_over_1_mib_is_refused_before_anything_is_sent() -> None:
    client = ScriptedKinesis()
    sink, _ = sink_for(client)

    with pytest.raises(ValueError, match="over Kinesis' 1 MiB"):
        sink.put([("A", b"ok"), ("B", b"x" * MAX_BYTES_PER_RECORD)])

    assert client.calls == []


def test_a_partial_failure_resends_the_failed_records_and_later_ones_of_their_keys() -> None:
    # A0 ok, A1 throttled, B2 ok, A3 ok (must follow A1 again), B4 internal failure, C5 ok
    client = ScriptedKinesis({1: THROTTLED, 4: INTERNAL})
    sink, slept = sink_for(client)
    sent = records("A", "A", "B", "A", "B", "C")

    sink.put(sent)

    assert client.calls[1] == [sent[1], sent[3], sent[4]]  # per key: A1 before A3; B2 already in
    assert len(client.calls) == 2
    assert len(slept) == 1


def test_retries_back_off_exponentially_with_jitter() -> None:
    client = ScriptedKinesis({0: THROTTLED}, {0: THROTTLED}, {0: THROTTLED}, {0: THROTTLED})
    sink, slept = sink_for(client, max_attempts=5, base_delay_s=0.1, max_delay_s=0.3)

    sink.put(records("A"))

    assert len(client.calls) == 5
    caps = [0.1, 0.2, 0.3, 0.3]
    assert all(0 <= wait <= cap for wait, cap in zip(slept, caps, strict=True))
    assert len(set(slept)) == 4  # jittered


def test_records_not_delivered_after_the_last_attempt() -> None:
    client = ScriptedKinesis({0: THROTTLED, 2: INTERNAL}, *[{0: THROTTLED, 1: INTERNAL}] * 3)
    sink, slept = sink_for(client, max_attempts=4)
    sent = records("A", "B", "C")

    with pytest.raises(RecordsNotDelivered) as raised:
        sink.put(sent)

    error = raised.value
    assert error.undelivered == [sent[0], sent[2]]
    assert error.reasons == {"ProvisionedThroughputExceededException": 1, "InternalFailure": 1}
    assert "2 record(s) not delivered to stream 'ticks'" in str(error)
    assert "after 4 attempt(s)" in str(error)
    assert "Rate exceeded for shard" in str(error)
    assert len(client.calls) == 4
    assert len(slept) == 3


def test_a_non_retryable_failure_is_raised_at_once() -> None:
    client = ScriptedKinesis({1: KMS_DENIED})
    sink, slept = sink_for(client)

    with pytest.raises(RecordsNotDelivered, match=r"KMSAccessDeniedException ×1.*not retryable"):
        sink.put(records("A", "B"))

    assert len(client.calls) == 1
    assert slept == []


def test_later_requests_are_not_sent_after_a_failed_one_and_are_reported() -> None:
    client = ScriptedKinesis({0: THROTTLED})
    sink, _ = sink_for(client, max_attempts=1)
    sent = [("A", b"x")] * 502

    with pytest.raises(RecordsNotDelivered) as raised:
        sink.put(sent)

    assert len(client.calls) == 1  # the second request would let records overtake the failed one
    assert raised.value.reasons == {"ProvisionedThroughputExceededException": 1, "NotAttempted": 2}
    assert len(raised.value.undelivered) == 3


def test_works_with_a_real_boto3_client() -> None:
    client = boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    sink, _ = sink_for(client)
    sent = records("A", "A")
    with Stubber(client) as stub:
        stub.add_response(
            "put_records",
            {"FailedRecordCount": 1, "Records": [THROTTLED, {"SequenceNumber": "2", "ShardId": "shardId-0"}]},
            {"StreamName": "ticks", "Records": [{"Data": d, "PartitionKey": k} for k, d in sent]},
        )
        stub.add_response(
            "put_records",
            {
                "Records": [{"SequenceNumber": n, "ShardId": "shardId-0"} for n in "34"]
            },  # no failures: no count
            {"StreamName": "ticks", "Records": [{"Data": d, "PartitionKey": k} for k, d in sent]},
        )

        sink.put(sent)

        stub.assert_no_pending_responses()
