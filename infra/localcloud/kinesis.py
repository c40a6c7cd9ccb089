"""Kinesis event-source mappings with Lambda's semantics.

One :class:`ShardPoller` per shard reads records in order, batches them and invokes the function
synchronously, exactly one batch at a time per shard (ParallelizationFactor 1), as Lambda's
standard-iterator poller does (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html):

- **Batching**: a batch closes at ``BatchSize`` records, at 6 MB of payload, or when
  ``MaximumBatchingWindowInSeconds`` has passed since its first record was read (0: invoke as soon
  as records are read).
- **Errors**: a function error (exception, timeout, crash) retries the batch; with
  ``BisectBatchOnFunctionError`` the failed batch is split in two halves that are retried in order,
  and splitting does not consume the retry quota. ``MaximumRetryAttempts`` (-1: until the records
  expire) and ``MaximumRecordAgeInSeconds`` (-1: no limit) bound the retries; records that exhaust
  them are discarded with a failure record sent to the ``DestinationConfig.OnFailure`` queue (shard,
  sequence range, condition), and the shard moves on.
- **Partial batch responses** (``FunctionResponseTypes: [ReportBatchItemFailures]``): the function
  returns ``{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}``; Lambda checkpoints
  before the earliest reported failure and retries from it on (the records after it too). An empty
  list is success; a malformed response, or an identifier not in the batch, fails the whole batch.
  With bisection on, such a retry is not split further: the failure position already isolates it.
- **Checkpoints** advance only past records that succeeded or were discarded, and are persisted, so a
  restarted local cloud resumes after the last checkpoint (within the stream's retention).

The poller is written against small ports (:class:`ShardReader`, an invoke callable, a failure
destination, a checkpoint callback, a :class:`~localcloud.clock.Clock`) so its semantics are unit
tested without sockets; :class:`Boto3ShardReader` and :class:`KinesisMapping` bind it to a real
(moto, LocalStack or AWS) Kinesis endpoint.
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import logging
import os
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from localcloud.clock import Clock, SystemClock
from localcloud.model import KinesisEventSpec

log = logging.getLogger("localcloud.kinesis")

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
RECORD_OVERHEAD_BYTES = 400  # the JSON around one record's data in the event (ids, ARNs, keys)
GET_RECORDS_LIMIT = 10_000  # Kinesis GetRecords maximum


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One Kinesis record as GetRecords returns it."""

    sequence_number: str
    partition_key: str
    data: bytes
    approximate_arrival: float  # Unix seconds

    @property
    def event_size(self) -> int:
        """Bytes this record adds to the invocation payload (base64 data plus the JSON around it)."""
        return 4 * ((len(self.data) + 2) // 3) + len(self.partition_key) + RECORD_OVERHEAD_BYTES


class ShardReader(Protocol):
    """Reads one shard forward from a position; each call returns the next records (maybe none)."""

    def read(self, limit: int) -> list[StreamRecord]: ...


class InvokeOutcome(Protocol):
    """What the mapping needs to know about one synchronous invocation."""

    @property
    def ok(self) -> bool: ...

    @property
    def payload(self) -> Any: ...

    @property
    def error(self) -> dict[str, Any] | None: ...

    @property
    def request_id(self) -> str: ...


# --- pure translators ----------------------------------------------------------------------------


def kinesis_event(
    records: Sequence[StreamRecord], *, shard_id: str, stream_arn: str, region: str, invoke_identity_arn: str
) -> dict[str, Any]:
    """The event Lambda passes to a Kinesis-triggered function (the documented example's shape)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence_number,
                    "data": base64.b64encode(record.data).decode("ascii"),
                    "approximateArrivalTimestamp": record.approximate_arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": invoke_identity_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def failure_record(
    records: Sequence[StreamRecord],
    *,
    condition: str,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    request_id: str,
    invoke_count: int,
    function_error: str | None,
    now: float,
) -> dict[str, Any]:
    """The invocation record Lambda sends to an on-failure destination for discarded stream records
    (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). It carries
    the shard and sequence range, not the data: read the records from the stream with them."""
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "version": "1.0",
        "timestamp": _iso(now),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _iso(records[0].approximate_arrival),
            "approximateArrivalOfLastRecord": _iso(records[-1].approximate_arrival),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
    if function_error is not None:
        document["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        }
    return document


WHOLE_BATCH = -1


def first_reported_failure(payload: Any, batch: Sequence[StreamRecord]) -> int | None:
    """Index of the earliest record a ``ReportBatchItemFailures`` response names, ``None`` when it
    reports success, or :data:`WHOLE_BATCH` when the response is malformed or names a record that is
    not in the batch (Lambda then treats the entire batch as failed)."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        return WHOLE_BATCH
    failures = payload.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return WHOLE_BATCH
    index_of = {record.sequence_number: i for i, record in enumerate(batch)}
    earliest = len(batch)
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in index_of:
            return WHOLE_BATCH
        earliest = min(earliest, index_of[identifier])
    return earliest


# --- the poller ----------------------------------------------------------------------------------


@dataclass
class MappingStats:
    """One shard poller's counters for ``/_local/status`` (only its own thread writes them)."""

    records: int = 0  # delivered to a successful invocation (or checkpointed past by one)
    batches: int = 0
    retries: int = 0
    discarded: int = 0  # sent to the on-failure destination
    iterator_age_ms: float = 0.0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    state: str = "Creating"
    last_processing_result: str = "No records processed"

    def latency_percentiles(self) -> dict[str, float | None]:
        samples = sorted(self.latencies_ms)
        if not samples:
            return {"p50": None, "p99": None}
        return {
            "p50": samples[len(samples) // 2],
            "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        }


@dataclass(frozen=True, slots=True)
class _LocalFailure:
    """The outcome of an invocation that could not be made."""

    message: str
    ok: bool = False
    payload: Any = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def error(self) -> dict[str, Any]:
        return {"errorType": "LocalCloud.InvokeError", "errorMessage": self.message}


@dataclass
class _Batch:
    records: list[StreamRecord]
    attempts: int = 0  # invocations that failed it so far (retry quota)
    invocations: int = 0


class ShardPoller:
    """Lambda's poller for one shard of one event-source mapping."""

    def __init__(
        self,
        spec: KinesisEventSpec,
        *,
        shard_id: str,
        reader: ShardReader,
        invoke: Callable[[dict[str, Any]], InvokeOutcome],
        checkpoint: Callable[[str], None],
        send_failure: Callable[[dict[str, Any]], None],
        function_arn: str,
        region: str,
        clock: Clock | None = None,
        stats: MappingStats | None = None,
        poll_interval_s: float = 0.05,
        retry_backoff_s: float = 0.05,
        max_retry_backoff_s: float = 1.0,
    ) -> None:
        self.spec = spec
        self.shard_id = shard_id
        self._reader = reader
        self._invoke = invoke
        self._checkpoint = checkpoint
        self._send_failure = send_failure
        self._function_arn = function_arn
        self._region = region
        self._clock = clock or SystemClock()
        self.stats = stats or MappingStats()
        self._poll_interval = poll_interval_s
        self._retry_backoff = retry_backoff_s
        self._max_retry_backoff = max_retry_backoff_s
        self._buffer: deque[StreamRecord] = deque()
        self._first_buffered_at: float | None = None
        self._stop: threading.Event | None = None

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    # One cycle: read what is there, and process a batch if one is due. Returns whether it did work.
    def step(self, stop: threading.Event | None = None) -> bool:
        self._stop = stop
        self._fill()
        if not self._batch_due():
            return False
        batch = self._take_batch()
        self._process(batch)
        return True

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set (the mapping's thread body)."""
        self.stats.state = "Enabled"
        while not stop.is_set():
            try:
                worked = self.step(stop)
            except Exception:  # a broken endpoint must not kill the poller: log, back off, retry
                log.exception("%s %s: polling failed; retrying", self.spec.name, self.shard_id)
                worked = False
            if not worked:
                self._clock.sleep(self._idle_wait(), stop)
        self.stats.state = "Disabled"

    def _idle_wait(self) -> float:
        if self._first_buffered_at is None:
            return self._poll_interval
        remaining = self.spec.maximum_batching_window_s - (self._clock.monotonic() - self._first_buffered_at)
        return max(0.0, min(self._poll_interval, remaining))

    def _fill(self) -> None:
        wanted = self.spec.batch_size - len(self._buffer)
        if wanted <= 0:
            return
        records = self._reader.read(min(GET_RECORDS_LIMIT, max(wanted, 1)))
        if not records:
            return
        if self._first_buffered_at is None:
            self._first_buffered_at = self._clock.monotonic()
        self._buffer.extend(records)
        self.stats.iterator_age_ms = max(
            0.0, (self._clock.now().timestamp() - records[-1].approximate_arrival) * 1e3
        )

    def _batch_due(self) -> bool:
        if not self._buffer or self._first_buffered_at is None:
            return False
        if len(self._buffer) >= self.spec.batch_size:
            return True
        waited = self._clock.monotonic() - self._first_buffered_at
        return waited >= self.spec.maximum_batching_window_s

    def _take_batch(self) -> list[StreamRecord]:
        batch: list[StreamRecord] = []
        size = 0
        while self._buffer and len(batch) < self.spec.batch_size:
            record_size = self._buffer[0].event_size
            if batch and size + record_size > MAX_PAYLOAD_BYTES:
                break
            batch.append(self._buffer.popleft())
            size += record_size
        self._first_buffered_at = self._clock.monotonic() if self._buffer else None
        return batch

    # --- processing with Lambda's error handling --------------------------------------------------

    def _process(self, records: list[StreamRecord]) -> None:
        pending: deque[_Batch] = deque([_Batch(records)])
        while pending:
            if self._stopping():
                return  # unprocessed records stay after the checkpoint: the next start re-reads them
            batch = pending.popleft()
            batch.records = self._discard_expired(batch)
            if not batch.records:
                continue
            pending.extendleft(reversed(self._attempt(batch)))

    def _discard_expired(self, batch: _Batch) -> list[StreamRecord]:
        """Drop (to the on-failure destination) records older than MaximumRecordAgeInSeconds."""
        max_age = self.spec.maximum_record_age_s
        if max_age < 0:
            return batch.records
        now = self._clock.now().timestamp()
        fresh_from = next(
            (i for i, r in enumerate(batch.records) if now - r.approximate_arrival <= max_age),
            len(batch.records),
        )
        if fresh_from:
            self._discard(batch.records[:fresh_from], batch, "RecordAgeExceeded", None, None)
        return batch.records[fresh_from:]

    def _attempt(self, batch: _Batch) -> list[_Batch]:
        """Invoke once; return the batches still to process, in order."""
        records = batch.records
        event = kinesis_event(
            records,
            shard_id=self.shard_id,
            stream_arn=self.spec.stream_arn,
            region=self._region,
            invoke_identity_arn=f"{self._function_arn}:role",
        )
        if batch.invocations == 0 and batch.attempts == 0:  # added latency: arrival → first invocation
            started = self._clock.now().timestamp()
            self.stats.latencies_ms.extend((started - r.approximate_arrival) * 1e3 for r in records)
        outcome = self._invoke_safely(event)
        batch.invocations += 1
        self.stats.batches += 1

        failed_from: int | None
        if not outcome.ok:
            failed_from = WHOLE_BATCH
        elif self.spec.report_batch_item_failures:
            failed_from = first_reported_failure(outcome.payload, records)
        else:
            failed_from = None

        if failed_from is None:
            self._succeeded(records)
            self.stats.last_processing_result = "OK"
            return []

        function_error = "Unhandled" if not outcome.ok else None
        if failed_from > 0:
            # Partial success: checkpoint before the earliest failure and retry from it on.
            self._succeeded(records[:failed_from])
            records = records[failed_from:]
        self.stats.last_processing_result = "PROBLEM: Function call failed"
        log.warning(
            "%s %s: batch of %d failed from %s (%s)",
            self.spec.name,
            self.shard_id,
            len(records),
            records[0].sequence_number,
            (outcome.error or {}).get("errorType", "batchItemFailures"),
        )
        if failed_from == WHOLE_BATCH and self.spec.bisect_on_error and len(records) > 1:
            middle = len(records) // 2
            return [_Batch(records[:middle], batch.attempts), _Batch(records[middle:], batch.attempts)]
        if 0 <= self.spec.maximum_retry_attempts <= batch.attempts:
            self._discard(records, batch, "RetryAttemptsExhausted", outcome.request_id, function_error)
            return []
        batch.attempts += 1
        self.stats.retries += 1
        backoff = min(self._max_retry_backoff, self._retry_backoff * 2 ** (batch.attempts - 1))
        self._clock.sleep(backoff, self._stop)
        return [_Batch(records, batch.attempts, batch.invocations)]

    def _invoke_safely(self, event: dict[str, Any]) -> InvokeOutcome:
        """A failure to invoke at all counts as a function error (Lambda retries those too)."""
        try:
            return self._invoke(event)
        except Exception as error:
            log.exception("%s %s: could not invoke the function", self.spec.name, self.shard_id)
            return _LocalFailure(str(error))

    def _succeeded(self, records: Sequence[StreamRecord]) -> None:
        if records:
            self.stats.records += len(records)
            self._checkpoint(records[-1].sequence_number)

    def _discard(
        self,
        records: list[StreamRecord],
        batch: _Batch,
        condition: str,
        request_id: str | None,
        function_error: str | None,
    ) -> None:
        document = failure_record(
            records,
            condition=condition,
            shard_id=self.shard_id,
            stream_arn=self.spec.stream_arn,
            function_arn=self._function_arn,
            request_id=request_id or str(uuid.uuid4()),
            invoke_count=batch.invocations,
            function_error=function_error,
            now=self._clock.now().timestamp(),
        )
        log.error(
            "%s %s: discarding %d records %s..%s (%s)",
            self.spec.name,
            self.shard_id,
            len(records),
            records[0].sequence_number,
            records[-1].sequence_number,
            condition,
        )
        # Never move past records whose failure record was not delivered: retry until it is.
        backoff = self._retry_backoff
        while True:
            try:
                self._send_failure(document)
                break
            except Exception:
                log.exception(
                    "%s %s: on-failure destination unreachable; retrying", self.spec.name, self.shard_id
                )
                if not self._clock.sleep(backoff, self._stop):
                    return  # stopping: not checkpointed, so the next start handles these records again
                backoff = min(self._max_retry_backoff, backoff * 2)
        self.stats.discarded += len(records)
        self._checkpoint(records[-1].sequence_number)


# --- checkpoints ---------------------------------------------------------------------------------


class CheckpointStore:
    """Per mapping and shard, the last sequence number processed, persisted as one JSON file.

    Writes are atomic (temporary file + rename) so a crash never leaves a torn file. Each mapping
    also remembers when it was created, so a ``LATEST`` mapping restarted before it processed
    anything resumes from that moment rather than skipping what arrived while it was down.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            try:
                self._data = json.loads(path.read_text())
            except (OSError, ValueError):
                log.warning("ignoring unreadable checkpoint file %s", path)

    def created_at(self, mapping: str, now: float) -> float:
        with self._lock:
            entry = self._data.setdefault(mapping, {"created_at": now, "shards": {}})
            self._save()
            return float(entry["created_at"])

    def get(self, mapping: str, shard_id: str) -> str | None:
        with self._lock:
            value = self._data.get(mapping, {}).get("shards", {}).get(shard_id)
            return str(value) if value is not None else None

    def set(self, mapping: str, shard_id: str, sequence_number: str) -> None:
        with self._lock:
            entry = self._data.setdefault(
                mapping, {"created_at": datetime.now(UTC).timestamp(), "shards": {}}
            )
            entry["shards"][shard_id] = sequence_number
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".checkpoints-")
        with os.fdopen(fd, "w") as handle:
            json.dump(self._data, handle)
        os.replace(tmp, self._path)


# --- boto3 binding -------------------------------------------------------------------------------


class Boto3ShardReader:
    """A :class:`ShardReader` over GetShardIterator/GetRecords (moto, LocalStack or AWS).

    With ``raw_endpoint`` (the embedded moto server, which checks no signature), GetRecords goes
    straight over a kept-alive HTTP connection and is read with the JSON parser: botocore's response
    parser (a Python walk over every field, timestamps through dateutil) was half of the local
    cloud's CPU with the pipeline at full speed. The records are the same either way (a functional
    test compares the two).
    """

    def __init__(
        self,
        client: Any,
        stream_name: str,
        shard_id: str,
        start: dict[str, Any],
        *,
        raw_endpoint: str | None = None,
    ) -> None:
        self._client = client
        self._stream = stream_name
        self._shard = shard_id
        self._start = start  # GetShardIterator arguments: ShardIteratorType and its position
        self._iterator: str | None = None
        self._last_sequence: str | None = None
        self._raw = _RawGetRecords(raw_endpoint, client.meta.region_name) if raw_endpoint else None

    def _new_iterator(self) -> str:
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": self._last_sequence}
            if self._last_sequence is not None
            else self._start
        )
        response = self._client.get_shard_iterator(StreamName=self._stream, ShardId=self._shard, **position)
        return str(response["ShardIterator"])

    def read(self, limit: int) -> list[StreamRecord]:
        if self._iterator is None:
            self._iterator = self._new_iterator()
        try:
            if self._raw is not None:
                self._iterator, records = self._raw(self._iterator, limit)
            else:
                self._iterator, records = self._boto3_get_records(self._iterator, limit)
        except (self._client.exceptions.ExpiredIteratorException, _ExpiredIterator):
            self._iterator = None
            return []
        if records:
            self._last_sequence = records[-1].sequence_number
        return records

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()

    def _boto3_get_records(self, iterator: str, limit: int) -> tuple[str | None, list[StreamRecord]]:
        response = self._client.get_records(ShardIterator=iterator, Limit=limit)
        records = [
            StreamRecord(
                sequence_number=r["SequenceNumber"],
                partition_key=r["PartitionKey"],
                data=bytes(r["Data"]),
                approximate_arrival=r["ApproximateArrivalTimestamp"].timestamp(),
            )
            for r in response.get("Records", [])
        ]
        return response.get("NextShardIterator"), records


class _ExpiredIterator(Exception):
    pass


class _RawGetRecords:
    """Kinesis GetRecords (JSON 1.1 protocol) over one kept-alive HTTP connection. The signature is a
    placeholder: moto checks none, but routes by the credential scope (service and region)."""

    def __init__(self, endpoint: str, region: str) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"raw GetRecords needs a plain http endpoint, got {endpoint!r}")
        self._address = (parts.hostname, parts.port or 80)
        self._connection: http.client.HTTPConnection | None = None
        self._headers = {
            "X-Amz-Target": "Kinesis_20131202.GetRecords",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/kinesis/aws4_request, "
            "SignedHeaders=host, Signature=0",
        }

    def __call__(self, iterator: str, limit: int) -> tuple[str | None, list[StreamRecord]]:
        body = json.dumps({"ShardIterator": iterator, "Limit": limit})
        for attempt in (1, 2):  # once more on a fresh connection if a kept-alive one was dropped
            connection = self._connection or http.client.HTTPConnection(*self._address, timeout=30)
            try:
                connection.request("POST", "/", body, self._headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise
                continue
            self._connection = connection
            break
        if response.status != 200:
            try:
                document = json.loads(data)
            except ValueError:  # not a JSON error (moto answers some failures with an HTML page)
                document = {}
            kind = str(document.get("__type", "")).rsplit("#", 1)[-1]
            if kind == "ExpiredIteratorException":
                raise _ExpiredIterator(document.get("message", ""))
            message = document.get("message", data[:200])
            raise RuntimeError(f"GetRecords: HTTP {response.status} {kind}: {message!r}")
        document = json.loads(data)
        records = [
            StreamRecord(
                sequence_number=r["SequenceNumber"],
                partition_key=r["PartitionKey"],
                data=base64.b64decode(r["Data"]),
                approximate_arrival=float(r["ApproximateArrivalTimestamp"]),
            )
            for r in document.get("Records", [])
        ]
        return document.get("NextShardIterator"), records

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def starting_position(spec: KinesisEventSpec, checkpoint: str | None, created_at: float) -> dict[str, Any]:
    """GetShardIterator arguments for a shard: after its checkpoint, else the mapping's
    StartingPosition (LATEST meaning "from when the mapping was created", as in AWS, where the
    mapping keeps polling from that point even while nothing invokes)."""
    if checkpoint is not None:
        return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": checkpoint}
    if spec.starting_position == "TRIM_HORIZON":
        return {"ShardIteratorType": "TRIM_HORIZON"}
    if spec.starting_position == "AT_TIMESTAMP":
        return {
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": spec.starting_position_timestamp or created_at,
        }
    return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": created_at}


class KinesisMapping:
    """One event-source mapping: a poller thread per shard of its stream."""

    def __init__(
        self,
        key: str,
        spec: KinesisEventSpec,
        *,
        kinesis: Any,
        invoke: Callable[[dict[str, Any]], InvokeOutcome],
        send_failure: Callable[[dict[str, Any]], None],
        checkpoints: CheckpointStore,
        function_arn: str,
        region: str,
        poll_interval_s: float = 0.05,
        raw_endpoint: str | None = None,
    ) -> None:
        self.key = key
        self._raw_endpoint = raw_endpoint  # the embedded moto server's URL: GetRecords without botocore
        self.spec = spec
        self._shard_stats: list[MappingStats] = []
        self._state = "Creating"
        self._kinesis = kinesis
        self._invoke = invoke
        self._send_failure = send_failure
        self._checkpoints = checkpoints
        self._function_arn = function_arn
        self._region = region
        self._poll_interval = poll_interval_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._readers: list[Boto3ShardReader] = []

    def start(self) -> None:
        if not self.spec.enabled:
            self._state = "Disabled"
            return
        created_at = self._checkpoints.created_at(self.key, datetime.now(UTC).timestamp())
        for shard_id in self._shard_ids():
            position = starting_position(self.spec, self._checkpoints.get(self.key, shard_id), created_at)
            reader = Boto3ShardReader(
                self._kinesis, self.spec.stream_name, shard_id, position, raw_endpoint=self._raw_endpoint
            )
            self._readers.append(reader)
            poller = ShardPoller(
                self.spec,
                shard_id=shard_id,
                reader=reader,
                invoke=self._invoke,
                checkpoint=functools.partial(self._checkpoints.set, self.key, shard_id),
                send_failure=self._send_failure,
                function_arn=self._function_arn,
                region=self._region,
                poll_interval_s=self._poll_interval,
            )
            self._shard_stats.append(poller.stats)
            thread = threading.Thread(
                target=poller.run, args=(self._stop,), name=f"kinesis-{self.key}-{shard_id}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        self._state = "Enabled"

    def _shard_ids(self) -> Iterator[str]:
        paginator_token: dict[str, Any] = {"StreamName": self.spec.stream_name}
        while True:
            response = self._kinesis.list_shards(**paginator_token)
            for shard in response["Shards"]:
                if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
                    yield shard["ShardId"]
            token = response.get("NextToken")
            if not token:
                return
            paginator_token = {"NextToken": token}

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        if not any(thread.is_alive() for thread in self._threads):
            for reader in self._readers:
                reader.close()
        self._state = "Disabled"

    def status(self) -> dict[str, Any]:
        """The mapping's entry in ``/_local/status``: totals over its shards."""
        shards = self._shard_stats
        merged = MappingStats()
        for stats in shards:
            merged.latencies_ms.extend(stats.latencies_ms)
        return {
            "state": self._state,
            "records": sum(s.records for s in shards),
            "iterator_age_ms": round(max((s.iterator_age_ms for s in shards), default=0.0), 1),
            "retries": sum(s.retries for s in shards),
            "batches": sum(s.batches for s in shards),
            "discarded": sum(s.discarded for s in shards),
            "shards": len(shards),
            "latency_ms": merged.latency_percentiles(),
            "last_processing_result": next(
                (s.last_processing_result for s in shards if s.last_processing_result.startswith("PROBLEM")),
                "OK" if any(s.batches for s in shards) else "No records processed",
            ),
        }
