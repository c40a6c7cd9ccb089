"""The local cloud runs a SAM template's schedules and Kinesis mappings with Lambda's semantics.

Driven only through boto3 (PutRecords, S3, SQS) and ``/_local/status``; the handlers record what
they received in S3 (tests/functional/localcloud/app/observer/app.py).
"""

from __future__ import annotations

import time
from collections import defaultdict

from .conftest import Client, wait_for


def test_records_arrive_in_order_per_partition_key_exactly_once_in_batches_of_at_most_batch_size(
    local: Client,
) -> None:
    # GIVEN 200 records over 10 partition keys on a 2-shard stream, in 4 PutRecords calls
    sent = [f"k{i % 10}:{i}" for i in range(200)]
    for start in range(0, 200, 50):
        chunk = sent[start : start + 50]
        for key in sorted({p.split(":")[0] for p in chunk}):
            local.put("OrderedStream", *[p for p in chunk if p.startswith(f"{key}:")], key=key)
    # WHEN the mapping has delivered them
    wait_for(lambda: sum(map(len, local.batches("Ordered"))) >= 200)
    batches = local.observations("Ordered")
    delivered = [r["data"] for b in batches for r in b["records"]]
    # THEN each exactly once, each key's records in the order they were put, batches ≤ BatchSize
    assert sorted(delivered) == sorted(sent)
    per_key: dict[str, list[int]] = defaultdict(list)
    for payload in delivered:
        key, index = payload.split(":")
        per_key[key].append(int(index))
    assert all(indices == sorted(indices) for indices in per_key.values())
    assert max(len(b["records"]) for b in batches) <= 10
    # every batch comes from one shard, and both shards were used
    shards = [{r["shard"] for r in b["records"]} for b in batches]
    assert all(len(s) == 1 for s in shards)
    assert len(set().union(*shards)) == 2


def test_the_batching_window_gathers_records_that_arrive_within_it(local: Client) -> None:
    # GIVEN a mapping with BatchSize 50 and a 3 s window; 20 records put one by one within it
    started = time.monotonic()
    for i in range(20):
        local.put("WindowStream", f"w{i}")
    assert time.monotonic() - started < 3.0, "the puts outlasted the window: the test proves nothing"
    # THEN they arrive as one batch, in order
    wait_for(lambda: local.batches("Windowed"))
    assert local.batches("Windowed") == [[f"w{i}" for i in range(20)]]


def test_bisection_isolates_a_poison_record_and_the_rest_is_delivered_exactly_once(local: Client) -> None:
    # GIVEN a batch of 8 with one poison record; bisect on, 1 retry, DLQ on failure
    payloads = ["a", "b", "c", "poison", "e", "f", "g", "h"]
    sequence_numbers = local.put("PoisonStream", *payloads)
    # WHEN the mapping gives up on the poison record
    letters = wait_for(
        lambda: [
            d for d in local.dead_letters() if d["KinesisBatchInfo"]["streamArn"].endswith("PoisonStream")
        ]
    )
    # THEN the failure record names exactly the poison record's sequence number
    (letter,) = letters
    info = letter["KinesisBatchInfo"]
    poison_seq = sequence_numbers[3]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison_seq,
        poison_seq,
        1,
    )
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["requestContext"]["functionArn"].endswith(":function:lc-test-Bisecting")
    # and every other record was delivered in a successful batch exactly once
    successful = [p for batch in local.batches("Bisecting") if "poison" not in batch for p in batch]
    assert sorted(successful) == sorted(p for p in payloads if p != "poison")
    # the poison record alone: one try and one retry (splitting did not use the quota)
    assert local.batches("Bisecting").count(["poison"]) == 2
    # AND the shard moved on
    local.put("PoisonStream", "after")
    wait_for(lambda: ["after"] in local.batches("Bisecting"))
    mapping = local.status()["mappings"]["Bisecting.Records"]
    assert mapping["discarded"] == 1
    assert mapping["records"] == 8


def test_partial_batch_failures_retry_only_from_the_first_reported_failure_on(local: Client) -> None:
    # GIVEN a record that fails once in the middle of a batch (ReportBatchItemFailures)
    local.put("PartialStream", "a", "b", "flaky", "d", "e")
    # THEN the retry starts at the failed record, and a, b are not delivered again
    wait_for(lambda: len(local.batches("Partial")) >= 2)
    assert local.batches("Partial")[:2] == [["a", "b", "flaky", "d", "e"], ["flaky", "d", "e"]]


def test_a_record_that_keeps_failing_goes_to_the_dlq_after_the_retries_and_the_shard_moves_on(
    local: Client,
) -> None:
    wait_for(lambda: len(local.batches("Partial")) >= 2)  # the previous test's batch is done
    before = len(local.batches("Partial"))
    sequence_numbers = local.put("PartialStream", "x", "fail", "y")
    letters = wait_for(
        lambda: [
            d for d in local.dead_letters() if d["KinesisBatchInfo"]["streamArn"].endswith("PartialStream")
        ]
    )
    info = letters[0]["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (
        sequence_numbers[1],
        sequence_numbers[2],
    )
    assert "responseContext" not in letters[0]  # the function returned normally each time
    # one invocation with x, then the failed suffix: 1 try + 2 retries
    assert local.batches("Partial")[before:] == [["x", "fail", "y"], ["fail", "y"], ["fail", "y"]]
    local.put("PartialStream", "z")
    wait_for(lambda: ["z"] in local.batches("Partial"))


def test_a_scheduled_function_fires_at_start_and_then_on_its_rate(local: Client) -> None:
    ticks = wait_for(
        lambda: (
            local.observations("Ticker", kind="schedule")
            if len(local.observations("Ticker", kind="schedule")) >= 3
            else []
        )
    )
    event = ticks[0]["event"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].startswith("arn:aws:events:us-east-1:")
    assert 0 < ticks[0]["remaining_ms"] <= 10_000  # the template's Timeout: 10
    schedule = local.status()["schedules"]["Ticker.Tick"]
    assert schedule["fired"] >= 3
    assert schedule["expression"] == "rate(1 minute)"


def test_status_reports_functions_mappings_and_queues(local: Client) -> None:
    local.put("OrderedStream", "status-probe")
    wait_for(lambda: local.status()["mappings"]["Ordered.Records"]["records"] >= 1)
    status = local.status()
    assert status["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert set(status["functions"]) == {"Ticker", "Ordered", "Windowed", "Bisecting", "Partial"}
    ordered = status["functions"]["Ordered"]
    assert ordered["invocations"] >= 1
    assert ordered["errors"] == 0
    assert ordered["duration_ms"]["mean"] > 0
    mapping = status["mappings"]["Ordered.Records"]
    assert {"state", "records", "iterator_age_ms", "retries"} <= set(mapping)
    assert mapping["state"] == "Enabled"
    assert "messages" in status["queues"]["DeadLetters"]
