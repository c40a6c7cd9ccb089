"""Kinesis event-source mapping semantics, without sockets: an in-memory shard, a scripted function,
and a manual clock. What is checked is Lambda's documented behaviour (see localcloud.kinesis)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud.clock import ManualClock
from localcloud.kinesis import (
    WHOLE_BATCH,
    CheckpointStore,
    ShardPoller,
    StreamRecord,
    failure_record,
    first_reported_failure,
    kinesis_event,
    starting_position,
)
from localcloud.model import KinesisEventSpec

START = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/ticks"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:enrich"


def spec(**overrides: Any) -> KinesisEventSpec:
    base = KinesisEventSpec(
        name="Ticks", stream_arn=ARN, stream_name="ticks", starting_position="TRIM_HORIZON"
    )
    return replace(base, **overrides)


class Shard:
    """An in-memory shard: records appended by the test, read in order by the poller."""

    def __init__(self, clock: ManualClock) -> None:
        self.records: list[StreamRecord] = []
        self.position = 0
        self.clock = clock

    def put(self, *payloads: str, key: str = "NIFTY") -> None:
        for payload in payloads:
            self.records.append(
                StreamRecord(str(len(self.records) + 1), key, payload.encode(), self.clock.now().timestamp())
            )

    def read(self, limit: int) -> list[StreamRecord]:
        chunk = self.records[self.position : self.position + limit]
        self.position += len(chunk)
        return chunk


@dataclass
class Outcome:
    ok: bool
    payload: Any = None
    error: dict[str, Any] | None = None
    request_id: str = "req-1"


@dataclass
class Function:
    """Records every batch it is invoked with; ``behaviour`` decides each outcome from the payloads."""

    behaviour: Callable[[list[str]], Outcome] = lambda payloads: Outcome(ok=True)
    batches: list[list[str]] = field(default_factory=list)
    sequence_numbers: list[list[str]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any]) -> Outcome:
        records = event["Records"]
        payloads = [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]
        self.batches.append(payloads)
        self.sequence_numbers.append([r["kinesis"]["sequenceNumber"] for r in records])
        return self.behaviour(payloads)

    @property
    def delivered_ok(self) -> list[str]:
        return [p for batch in self.batches for p in batch]


def crash_on_poison(payloads: list[str]) -> Outcome:
    if "poison" in payloads:
        return Outcome(ok=False, error={"errorType": "ValueError", "errorMessage": "poison"})
    return Outcome(ok=True)


@dataclass
class Harness:
    shard: Shard
    function: Function
    poller: ShardPoller
    clock: ManualClock
    checkpoints: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def drain(self, max_steps: int = 1000) -> None:
        """Run the poller until it has nothing left to do."""
        idle = 0
        for _ in range(max_steps):
            if self.poller.step():
                idle = 0
            else:
                idle += 1
                if idle > 3 and self.shard.position == len(self.shard.records):
                    return
                self.clock.advance(0.05)


def harness(function: Function | None = None, **spec_overrides: Any) -> Harness:
    clock = ManualClock(START)
    shard = Shard(clock)
    function = function or Function()
    checkpoints: list[str] = []
    failures: list[dict[str, Any]] = []
    poller = ShardPoller(
        spec(**spec_overrides),
        shard_id="shardId-000000000000",
        reader=shard,
        invoke=function,
        checkpoint=checkpoints.append,
        send_failure=failures.append,
        function_arn=FUNCTION_ARN,
        region="us-east-1",
        clock=clock,
    )
    return Harness(shard, function, poller, clock, checkpoints, failures)


# --- event shapes --------------------------------------------------------------------------------


def test_the_event_has_lambdas_kinesis_record_shape() -> None:
    record = StreamRecord(
        "49590338271490256608559692538361571095921575989136588898", "1", b"Hello", 1545084650.987
    )
    event = kinesis_event(
        [record],
        shard_id="shardId-000000000006",
        stream_arn=ARN,
        region="us-east-2",
        invoke_identity_arn="arn:aws:iam::123456789012:role/lambda-role",
    )
    (entry,) = event["Records"]
    assert entry == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "1",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": "SGVsbG8=",
            "approximateArrivalTimestamp": 1545084650.987,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": "us-east-2",
        "eventSourceARN": ARN,
    }
    json.dumps(event)  # JSON-serialisable, as a Lambda payload must be


def test_the_failure_record_names_shard_sequence_range_and_condition() -> None:
    records = [StreamRecord("7", "k", b"a", 1_763_000_000.0), StreamRecord("9", "k", b"b", 1_763_000_001.5)]
    document = failure_record(
        records,
        condition="RetryAttemptsExhausted",
        shard_id="shardId-000000000001",
        stream_arn=ARN,
        function_arn=FUNCTION_ARN,
        request_id="r",
        invoke_count=3,
        function_error="Unhandled",
        now=1_763_000_002.0,
    )
    assert document["requestContext"] == {
        "requestId": "r",
        "functionArn": FUNCTION_ARN,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
    assert document["responseContext"]["functionError"] == "Unhandled"
    info = document["KinesisBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]) == (
        "shardId-000000000001",
        "7",
        "9",
    )
    assert info["batchSize"] == 2
    assert info["streamArn"] == ARN
    assert info["approximateArrivalOfLastRecord"].endswith("1.500Z")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": None}, None),
        ({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, WHOLE_BATCH),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, WHOLE_BATCH),
        ({"batchItemFailures": [{}]}, WHOLE_BATCH),
        ({"batchItemFailures": "2"}, WHOLE_BATCH),
        ("not a dict", WHOLE_BATCH),
    ],
)
def test_partial_batch_responses_are_read_as_lambda_reads_them(payload: Any, expected: int | None) -> None:
    batch = [StreamRecord(str(i), "k", b"", 0.0) for i in (1, 2, 3)]
    assert first_reported_failure(payload, batch) == expected


# --- batching ------------------------------------------------------------------------------------


def test_records_arrive_in_shard_order_in_batches_of_at_most_batch_size() -> None:
    h = harness(batch_size=4)
    h.shard.put(*[f"r{i}" for i in range(10)])
    h.drain()
    assert [len(b) for b in h.function.batches] == [4, 4, 2]
    assert h.function.delivered_ok == [f"r{i}" for i in range(10)]
    assert h.checkpoints[-1] == "10"


def test_batching_window_waits_for_more_records_until_it_elapses() -> None:
    h = harness(batch_size=100, maximum_batching_window_s=2.0)
    h.shard.put("a")
    assert not h.poller.step()  # window open: no invocation yet
    h.clock.advance(1.0)
    h.shard.put("b")
    assert not h.poller.step()
    h.clock.advance(1.0)
    assert h.poller.step()  # window elapsed since the first record: one batch with both
    assert h.function.batches == [["a", "b"]]


def test_a_full_batch_does_not_wait_for_the_window() -> None:
    h = harness(batch_size=2, maximum_batching_window_s=60.0)
    h.shard.put("a", "b", "c")
    assert h.poller.step()
    assert h.function.batches == [["a", "b"]]


def test_without_a_window_records_are_invoked_as_soon_as_they_are_read() -> None:
    h = harness(batch_size=100)
    h.shard.put("a")
    assert h.poller.step()
    assert h.function.batches == [["a"]]


def test_a_batch_stops_at_the_6_mb_payload_limit() -> None:
    h = harness(batch_size=10)
    h.shard.put(*["x" * (2 * 1024 * 1024)] * 4)  # 2 MiB each: ~2.7 MiB once base64-encoded
    h.drain()
    assert [len(b) for b in h.function.batches] == [2, 2]


# --- errors --------------------------------------------------------------------------------------


def test_a_failed_batch_is_retried_whole_until_it_succeeds_and_nothing_is_skipped() -> None:
    attempts = iter([False, False, True, True])
    h = harness(Function(lambda p: Outcome(ok=next(attempts))), batch_size=3)
    h.shard.put("a", "b", "c", "d")
    h.drain()
    assert h.function.batches == [["a", "b", "c"]] * 3 + [["d"]]
    assert h.poller.stats.retries == 2
    assert h.failures == []


def test_bisection_isolates_a_poison_record_and_delivers_the_rest_exactly_once() -> None:
    h = harness(Function(crash_on_poison), batch_size=8, bisect_on_error=True, maximum_retry_attempts=2)
    h.shard.put("a", "b", "c", "poison", "e", "f", "g", "h")
    h.drain()
    succeeded = [b for b in h.function.batches if "poison" not in b]
    assert sorted(p for b in succeeded for p in b) == ["a", "b", "c", "e", "f", "g", "h"]
    # halves in order: [a b c poison] fails → [a b] ok, [c poison] fails → [c] ok, [poison] ...
    assert h.function.batches[:4] == [
        ["a", "b", "c", "poison", "e", "f", "g", "h"],
        ["a", "b", "c", "poison"],
        ["a", "b"],
        ["c", "poison"],
    ]
    # the single poison record: splitting was free, then 1 try + 2 retries
    assert h.function.batches.count(["poison"]) == 3
    (failure,) = h.failures
    assert (
        failure["KinesisBatchInfo"]["startSequenceNumber"]
        == failure["KinesisBatchInfo"]["endSequenceNumber"]
        == "4"
    )
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert h.checkpoints[-1] == "8"


def test_exhausted_retries_send_the_batch_to_the_failure_destination_and_the_shard_moves_on() -> None:
    h = harness(Function(crash_on_poison), batch_size=2, maximum_retry_attempts=1)
    h.shard.put("poison", "b", "c", "d")
    h.drain()
    assert h.function.batches == [["poison", "b"], ["poison", "b"], ["c", "d"]]
    (failure,) = h.failures
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "2", 2)
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert h.checkpoints == ["2", "4"]


def test_zero_retry_attempts_discard_on_the_first_failure() -> None:
    h = harness(Function(crash_on_poison), batch_size=1, maximum_retry_attempts=0)
    h.shard.put("poison", "ok")
    h.drain()
    assert h.function.batches == [["poison"], ["ok"]]
    assert len(h.failures) == 1


def test_records_older_than_the_maximum_age_are_discarded_without_being_invoked() -> None:
    h = harness(Function(crash_on_poison), batch_size=10, maximum_record_age_s=60)
    h.shard.put("poison")
    h.poller.step()  # fails; retried with backoff while the record ages
    h.clock.advance(61)
    h.shard.put("fresh")
    h.drain()
    assert h.function.batches[-1] == ["fresh"]
    (failure,) = h.failures
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == "1"


def test_partial_batch_failure_checkpoints_before_the_first_failure_and_retries_from_it() -> None:
    calls = {"n": 0}

    def report_c_once(payloads: list[str]) -> Outcome:
        calls["n"] += 1
        if calls["n"] == 1:
            return Outcome(ok=True, payload={"batchItemFailures": [{"itemIdentifier": "3"}]})
        return Outcome(ok=True, payload={"batchItemFailures": []})

    h = harness(Function(report_c_once), batch_size=5, report_batch_item_failures=True, bisect_on_error=True)
    h.shard.put("a", "b", "c", "d", "e")
    h.drain()
    # retried from the failure on, including d and e that came after it; not bisected
    assert h.function.batches == [["a", "b", "c", "d", "e"], ["c", "d", "e"]]
    assert h.checkpoints == ["2", "5"]
    assert h.poller.stats.retries == 1


def test_partial_failures_that_persist_use_up_the_retry_quota_then_go_to_the_destination() -> None:
    def always_fail_c(payloads: list[str]) -> Outcome:
        return Outcome(
            ok=True, payload={"batchItemFailures": [{"itemIdentifier": "3"}]} if "c" in payloads else {}
        )

    h = harness(
        Function(always_fail_c), batch_size=5, report_batch_item_failures=True, maximum_retry_attempts=2
    )
    h.shard.put("a", "b", "c", "d", "e")
    h.drain()
    assert h.function.batches == [["a", "b", "c", "d", "e"], ["c", "d", "e"], ["c", "d", "e"]]
    (failure,) = h.failures
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("3", "5")
    assert "responseContext" not in failure  # the function itself did not error


def test_a_malformed_partial_response_fails_the_whole_batch() -> None:
    outcomes = iter(
        [Outcome(ok=True, payload={"batchItemFailures": [{"itemIdentifier": "nope"}]}), Outcome(ok=True)]
    )
    h = harness(Function(lambda p: next(outcomes)), batch_size=3, report_batch_item_failures=True)
    h.shard.put("a", "b", "c")
    h.drain()
    assert h.function.batches == [["a", "b", "c"], ["a", "b", "c"]]


def test_without_report_batch_item_failures_a_returned_failure_list_is_ignored() -> None:
    h = harness(
        Function(lambda p: Outcome(ok=True, payload={"batchItemFailures": [{"itemIdentifier": "1"}]}))
    )
    h.shard.put("a")
    h.drain()
    assert h.function.batches == [["a"]]
    assert h.checkpoints == ["1"]


def test_an_unreachable_failure_destination_holds_the_checkpoint_until_it_answers() -> None:
    down = {"left": 2}
    h = harness(Function(crash_on_poison), batch_size=1, maximum_retry_attempts=0)

    def flaky_send(document: dict[str, Any]) -> None:
        if down["left"]:
            down["left"] -= 1
            raise ConnectionError("queue unreachable")
        h.failures.append(document)

    h.poller._send_failure = flaky_send
    h.shard.put("poison", "ok")
    h.drain()
    assert len(h.failures) == 1
    assert h.checkpoints == ["1", "2"]


def test_stopping_mid_retry_leaves_the_records_after_the_checkpoint() -> None:
    stop = threading.Event()

    def fail_and_stop(payloads: list[str]) -> Outcome:
        stop.set()
        return Outcome(ok=False)

    h = harness(Function(fail_and_stop), batch_size=2)
    h.shard.put("a", "b")
    h.poller.step(stop)
    assert h.checkpoints == []  # the next start re-reads a and b: at-least-once, never lost


# --- starting positions and checkpoints -----------------------------------------------------------


def test_starting_positions_follow_the_checkpoint_then_the_mapping_setting() -> None:
    created = 1_763_800_000.0
    assert starting_position(spec(), "42", created) == {
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
        "StartingSequenceNumber": "42",
    }
    assert starting_position(spec(), None, created) == {"ShardIteratorType": "TRIM_HORIZON"}
    assert starting_position(spec(starting_position="LATEST"), None, created) == {
        "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": created,
    }
    at = spec(starting_position="AT_TIMESTAMP", starting_position_timestamp=1_700_000_000.0)
    assert starting_position(at, None, created)["Timestamp"] == 1_700_000_000.0


def test_checkpoints_survive_a_new_store_on_the_same_file(tmp_path: Any) -> None:
    path = tmp_path / "state" / "checkpoints.json"
    store = CheckpointStore(path)
    created = store.created_at("Enrich.Ticks", 100.0)
    store.set("Enrich.Ticks", "shardId-000000000000", "17")
    reopened = CheckpointStore(path)
    assert reopened.get("Enrich.Ticks", "shardId-000000000000") == "17"
    assert reopened.get("Enrich.Ticks", "shardId-000000000001") is None
    assert reopened.created_at("Enrich.Ticks", 999.0) == created == 100.0
