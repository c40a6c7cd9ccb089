"""The interfaces the services need (typing.Protocol); adapters/ implements them per system."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class RecordSink(Protocol):
    """A stream to put records on (Kinesis PutRecords)."""

    def put(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Put (partition key, data) records, in order per key. Retries partial failures; raises if
        any record could not be delivered, so nothing is dropped silently."""
        ...


class FeedState(Protocol):
    """Where the feed keeps what must continue across invocations (Redis)."""

    def next_tick_ids(self, product: str, count: int) -> range:
        """Reserve ``count`` consecutive tick ids for ``product``, atomically: two overlapping
        invocations never get the same id."""
        ...

    def load(self, product: str) -> dict[str, Any] | None:
        """The product's saved simulation state (spot, chain states, ...), or None the first time."""
        ...

    def save(self, product: str, state: Mapping[str, Any]) -> None: ...


class History(Protocol):
    """Long-term history (MongoDB/DocumentDB). Every write is an idempotent bulk upsert keyed on the
    record's idempotency key, one bulk write per call."""

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> int:
        """Upsert documents by their ``_id``; returns how many were new."""
        ...

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...
