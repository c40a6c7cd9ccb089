"""Making the embedded MongoDB stand-in (mongomock 4.3) keep up with a live feed.

mongomock is a faithful but naive model: on *every* read or write of a collection with a TTL index it
scans all documents for expired ones, and a ``ReplaceOne(upsert=True)`` finds its target by scanning
with the filter. Both make each operation O(n), so a ticks collection of a few thousand documents
slows every batch to hundreds of milliseconds and the pipeline falls behind (measured: 11 ms per
upsert at 10,000 documents). Two changes, used only by the mongomock backends (never with pymongo):

- the TTL monitor runs at most once per :data:`TTL_MONITOR_INTERVAL_S`, as MongoDB's own does
  (its TTL monitor wakes every 60 seconds), instead of on every access;
- an upsert whose filter is exactly ``{"_id": ...}`` replaces by key: delete the old document from
  the collection's store, insert the new one (mongomock's insert does the BSON-like conversions).

Tied to mongomock's internals (``Collection._store``, ``CollectionStore``), hence the exact pin in
pyproject.toml; the storage contract tests run on this path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

TTL_MONITOR_INTERVAL_S: Final = 60.0
_installed = threading.Event()


def install() -> None:
    """Throttle mongomock's TTL expiry scans (idempotent, process-wide)."""
    if _installed.is_set():
        return
    from mongomock.store import CollectionStore

    scan: Any = CollectionStore._remove_expired_documents

    def remove_expired_documents(self: Any) -> None:
        now = time.monotonic()
        last = getattr(self, "_deltastream_last_ttl_scan", None)
        if last is not None and now - last < TTL_MONITOR_INTERVAL_S:
            return
        self._deltastream_last_ttl_scan = now
        scan(self)

    CollectionStore._remove_expired_documents = remove_expired_documents  # type: ignore[method-assign]
    _installed.set()


def upsert_by_id(collection: Any, documents: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Replace-or-insert ``documents`` (each with an ``_id``) in a mongomock collection by key;
    returns (inserted, replaced)."""
    store = collection._store
    replaced = 0
    for document in documents:
        if document["_id"] in store:
            del store[document["_id"]]
            replaced += 1
    collection.insert_many([dict(d) for d in documents], ordered=False)
    return len(documents) - replaced, replaced
