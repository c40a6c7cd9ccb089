"""ports.RecordSink on Kinesis Data Streams (PutRecords), with nothing dropped silently.

PutRecords limits (Kinesis API reference, PutRecords): at most 500 records and 5 MiB per request,
partition keys included; each record at most 1 MiB, data and partition key together. A request can
succeed partially: ``FailedRecordCount > 0`` and, per failed entry, ``ErrorCode``
``ProvisionedThroughputExceededException`` or ``InternalFailure`` (both transient) or a KMS error
(not retried here: it needs an operator).

Ordering: Kinesis orders the records of a partition key by sequence number. When an entry fails, the
later entries of the same key in that request may have succeeded, so resending only the failed one
would let them overtake it. The sink therefore resends the failed entries AND every later entry of the
same keys (a successful one is then delivered twice; consumers deduplicate on the record's
idempotency key, ARCHITECTURE §3), and does not send the next request before the previous one is
fully delivered.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

logger = logging.getLogger(__name__)

MAX_RECORDS_PER_REQUEST: Final = 500
MAX_BYTES_PER_REQUEST: Final = 5 * 1024 * 1024  # data + partition keys
MAX_BYTES_PER_RECORD: Final = 1024 * 1024  # data + partition key
RETRYABLE_ERRORS: Final = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})


class KinesisClient(Protocol):
    """The part of a boto3 ``kinesis`` client the sink uses."""

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]: ...


class RecordsNotDelivered(RuntimeError):
    """Records the sink could not put on the stream; ``reasons`` counts them per error code.

    ``undelivered`` holds the (partition key, data) pairs in their original order: those still failing
    after the last attempt, then those of later requests that were not attempted (``NotAttempted``).
    """

    def __init__(
        self, stream: str, undelivered: Sequence[tuple[str, bytes]], reasons: Mapping[str, int], detail: str
    ) -> None:
        self.stream = stream
        self.undelivered = list(undelivered)
        self.reasons = dict(reasons)
        summary = ", ".join(f"{code} ×{count}" for code, count in self.reasons.items())
        super().__init__(
            f"{len(self.undelivered)} record(s) not delivered to stream {stream!r}: {summary}"
            + (f" ({detail})" if detail else "")
        )


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data) + len(self.key.encode())


def batches(
    records: Sequence[tuple[str, bytes]],
    *,
    max_records: int = MAX_RECORDS_PER_REQUEST,
    max_bytes: int = MAX_BYTES_PER_REQUEST,
) -> Iterator[list[tuple[str, bytes]]]:
    """Consecutive slices of ``records`` that each fit one PutRecords request (order kept).

    Raises ValueError for a record over the 1 MiB record limit (it can never be delivered).
    """
    batch: list[tuple[str, bytes]] = []
    size = 0
    for key, data in records:
        record_size = len(data) + len(key.encode())
        if record_size > MAX_BYTES_PER_RECORD:
            raise ValueError(f"a record of key {key!r} is {record_size} bytes, over Kinesis' 1 MiB")
        if batch and (len(batch) == max_records or size + record_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((key, data))
        size += record_size
    if batch:
        yield batch


class KinesisSink:
    """Puts records on one stream, retrying partial failures with exponential backoff and full jitter.

    ``max_attempts`` counts requests per batch (the first one included); the wait before retry n
    (n ≥ 1) is uniform in [0, min(``max_delay_s``, ``base_delay_s``·2^(n−1))] seconds (AWS
    Architecture Blog, "Exponential Backoff And Jitter"). botocore's own retries still handle whole-
    request errors (throttling, 5xx) underneath.
    """

    def __init__(
        self,
        client: KinesisClient,
        stream_name: str,
        *,
        max_attempts: int = 5,
        base_delay_s: float = 0.1,
        max_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be ≥ 1, got {max_attempts}")
        self._client = client
        self._stream = stream_name
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._sleep = sleep
        self._rng = rng or random.Random()

    @property
    def stream_name(self) -> str:
        return self._stream

    def put(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Put (partition key, data) records in order per key; RecordsNotDelivered if any cannot be."""
        sent = 0
        for batch in batches(records):
            try:
                self._put_batch([_Entry(key, data) for key, data in batch])
            except RecordsNotDelivered as error:
                not_attempted = list(records[sent + len(batch) :])
                if not not_attempted:
                    raise
                reasons = Counter(error.reasons)
                reasons["NotAttempted"] += len(not_attempted)
                raise RecordsNotDelivered(
                    self._stream, error.undelivered + not_attempted, reasons, "later requests not sent"
                ) from error
            sent += len(batch)

    def _put_batch(self, pending: list[_Entry]) -> None:
        for attempt in range(1, self._max_attempts + 1):
            response = self._client.put_records(
                StreamName=self._stream,
                Records=[{"Data": entry.data, "PartitionKey": entry.key} for entry in pending],
            )
            if not response.get("FailedRecordCount"):
                return
            results: list[dict[str, Any]] = response["Records"]
            failed = {i: result["ErrorCode"] for i, result in enumerate(results) if result.get("ErrorCode")}
            resend = _to_resend(pending, failed)
            reasons = Counter(failed.values())
            permanent = set(reasons) - RETRYABLE_ERRORS
            if permanent or attempt == self._max_attempts:
                why = "not retryable" if permanent else f"after {attempt} attempt(s)"
                raise RecordsNotDelivered(
                    self._stream,
                    [(pending[i].key, pending[i].data) for i in sorted(failed)],
                    reasons,
                    f"{why}; {_first_message(results)}",
                )
            logger.warning(
                "PutRecords to %s: %d of %d failed (%s); resending %d (attempt %d of %d)",
                self._stream,
                len(failed),
                len(pending),
                dict(reasons),
                len(resend),
                attempt + 1,
                self._max_attempts,
            )
            self._sleep(self._backoff_s(attempt))
            pending = resend

    def _backoff_s(self, attempt: int) -> float:
        return self._rng.uniform(0.0, min(self._max_delay_s, self._base_delay_s * 2 ** (attempt - 1)))


def _to_resend(entries: Sequence[_Entry], failed: Mapping[int, str]) -> list[_Entry]:
    """The failed entries plus every later entry of a key that has failed, in request order."""
    blocked_keys: set[str] = set()
    resend: list[_Entry] = []
    for index, entry in enumerate(entries):
        if index in failed:
            blocked_keys.add(entry.key)
        if entry.key in blocked_keys:
            resend.append(entry)
    return resend


def _first_message(results: Sequence[Mapping[str, Any]]) -> str:
    for result in results:
        if result.get("ErrorCode"):
            return f"first error: {result.get('ErrorMessage') or result['ErrorCode']}"
    return "no error detail"
