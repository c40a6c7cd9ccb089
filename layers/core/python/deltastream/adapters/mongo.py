"""Long-term history in MongoDB or Amazon DocumentDB (ports.History), with embedded stand-ins.

The backend follows ``MONGO_URL`` (``Settings.mongo_url``):

- ``""`` — an in-process ``mongomock`` client: unit-speed, private to this process (tests, scripts).
- ``mongomock://HOST:PORT`` — the embedded store of :mod:`.mongo_embedded`, one mongomock shared by
  every worker process of a local run (in-process mongomock would give each function its own empty
  database).
- anything else — a real server through pymongo. For DocumentDB put its requirements in the URL:
  ``mongodb://USER:PASS@HOST:27017/?tls=true&tlsCAFile=global-bundle.pem&replicaSet=rs0
  &readPreference=secondaryPreferred&retryWrites=false`` (TLS with the RDS CA bundle; DocumentDB does
  not support retryable writes).

Only operations DocumentDB supports are used: ``bulk_write`` of ``ReplaceOne`` upserts, ``find`` with
sort and limit, ``create_index`` / ``drop_index`` (no ``$merge``, change streams, text indexes or
collations). Every backend is reached through the narrow :class:`Collections` interface, whose
arguments and results are plain picklable values so the embedded store can serve it across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol, TypedDict

from pymongo import MongoClient, ReplaceOne
from pymongo.database import Database
from pymongo.operations import DeleteMany, DeleteOne, InsertOne, UpdateMany, UpdateOne

from deltastream.config import Settings

logger = logging.getLogger(__name__)

TICKS: Final = "ticks"  # enriched underlying ticks; expire after the raw-tick retention
CHAINS: Final = "chains"  # enriched chain snapshots
BARS: Final = "bars"  # closed OHLC bars

EMBEDDED_SCHEME: Final = "mongomock://"
APPNAME: Final = "deltastream"  # shows in the server's logs and currentOp, naming who connected
SERVER_SELECTION_TIMEOUT_MS: Final = 5000  # fail a Lambda invocation fast when the cluster is away
TTL_INDEX: Final = "ts_date_ttl"

WriteOperation = InsertOne[Any] | ReplaceOne[Any] | UpdateOne | UpdateMany | DeleteOne | DeleteMany
IndexKeys = Sequence[tuple[str, int]]

# name → keys, per collection: the queries the services run (latest N of a product, a time range).
INDEXES: Final[Mapping[str, Mapping[str, IndexKeys]]] = {
    TICKS: {"product_tick_id": [("product", 1), ("tick_id", 1)]},
    CHAINS: {
        "product_expiry_tick_id": [("product", 1), ("expiry", 1), ("tick_id", 1)],
        "product_ts_date": [("product", 1), ("ts_date", 1)],
    },
    BARS: {"product_window_start": [("product", 1), ("window", 1), ("start", 1)]},
}


class BulkResult(TypedDict):
    """The counts of a bulk write (pymongo's ``BulkWriteResult`` as a plain, picklable dict)."""

    inserted: int
    matched: int
    modified: int
    deleted: int
    upserted: int


class Collections(Protocol):
    """The operations history needs, on named collections of one database."""

    def bulk_write(
        self, collection: str, requests: Sequence[WriteOperation], *, ordered: bool = True
    ) -> BulkResult: ...

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]: ...

    def create_index(self, collection: str, keys: IndexKeys, *, name: str, **options: Any) -> str: ...

    def drop_index(self, collection: str, name: str) -> None: ...

    def index_information(self, collection: str) -> dict[str, Any]: ...

    def count_documents(self, collection: str, filter: Mapping[str, Any]) -> int: ...

    def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int: ...

    def drop(self, collection: str) -> None: ...


class DatabaseCollections:
    """:class:`Collections` over a pymongo ``Database`` — or a mongomock one, which mimics its API."""

    def __init__(self, database: Database[dict[str, Any]]) -> None:
        self._database = database

    def bulk_write(
        self, collection: str, requests: Sequence[WriteOperation], *, ordered: bool = True
    ) -> BulkResult:
        result = self._database[collection].bulk_write(list(requests), ordered=ordered)
        return BulkResult(
            inserted=result.inserted_count,
            matched=result.matched_count,
            modified=result.modified_count,
            deleted=result.deleted_count,
            upserted=result.upserted_count,
        )

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        return list(self._database[collection].find(dict(filter), sort=list(sort) or None, limit=limit))

    def create_index(self, collection: str, keys: IndexKeys, *, name: str, **options: Any) -> str:
        return self._database[collection].create_index(list(keys), name=name, **options)

    def drop_index(self, collection: str, name: str) -> None:
        self._database[collection].drop_index(name)

    def index_information(self, collection: str) -> dict[str, Any]:
        return dict(self._database[collection].index_information())

    def count_documents(self, collection: str, filter: Mapping[str, Any]) -> int:
        return self._database[collection].count_documents(dict(filter))

    def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int:
        return self._database[collection].delete_many(dict(filter)).deleted_count

    def drop(self, collection: str) -> None:
        self._database[collection].drop()


class MongomockCollections(DatabaseCollections):
    """:class:`DatabaseCollections` on mongomock, with the key-based upsert of
    :mod:`deltastream.adapters.mongomock_speedups` (mongomock's own is O(n) per document)."""

    def __init__(self, database: Database[dict[str, Any]]) -> None:
        from deltastream.adapters import mongomock_speedups

        mongomock_speedups.install()
        super().__init__(database)

    def bulk_write(
        self, collection: str, requests: Sequence[WriteOperation], *, ordered: bool = True
    ) -> BulkResult:
        by_id = all(isinstance(r, ReplaceOne) and r._upsert and set(r._filter) == {"_id"} for r in requests)
        if not by_id or not requests:
            return super().bulk_write(collection, requests, ordered=ordered)
        from deltastream.adapters.mongomock_speedups import upsert_by_id

        documents: list[Mapping[str, Any]] = [r._doc for r in requests]  # type: ignore[union-attr,misc]
        inserted, replaced = upsert_by_id(self._database[collection], documents)
        return BulkResult(inserted=0, matched=replaced, modified=replaced, deleted=0, upserted=inserted)


def connect(url: str, database: str) -> Collections:
    """The :class:`Collections` of ``database`` on the backend ``url`` names (see the module doc).

    Every backend hands back timezone-aware (UTC) datetimes, so callers see the same values on all.
    """
    if not url:
        import mongomock  # the embedded extra: a development dependency, absent from the Lambda layer

        return MongomockCollections(mongomock.MongoClient(tz_aware=True)[database])
    if url.startswith(EMBEDDED_SCHEME):
        from deltastream.adapters.mongo_embedded import EmbeddedCollections

        return EmbeddedCollections(url, database)
    client: MongoClient[dict[str, Any]] = MongoClient(
        url, appname=APPNAME, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS, tz_aware=True
    )
    return DatabaseCollections(client[database])


class MongoHistory:
    """ports.History: idempotent bulk upserts keyed on ``_id``, and queries, on any backend.

    ``raw_tick_retention_days`` is how long the TTL index keeps documents of :data:`TICKS`, counted
    from their ``ts_date`` (a BSON datetime the caller sets: TTL indexes ignore strings).
    """

    def __init__(self, collections: Collections, *, raw_tick_retention_days: int = 7) -> None:
        if raw_tick_retention_days <= 0:
            raise ValueError(f"raw_tick_retention_days must be > 0, got {raw_tick_retention_days}")
        self.collections = collections
        self.raw_tick_retention_days = raw_tick_retention_days

    @classmethod
    def from_url(cls, url: str, database: str, *, raw_tick_retention_days: int = 7) -> MongoHistory:
        return cls(connect(url, database), raw_tick_retention_days=raw_tick_retention_days)

    @classmethod
    def from_settings(cls, settings: Settings) -> MongoHistory:
        return cls.from_url(
            settings.mongo_url, settings.mongo_db, raw_tick_retention_days=settings.raw_tick_retention_days
        )

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> int:
        """Replace-or-insert each document by its ``_id`` in ONE unordered bulk write; returns how many
        were new. Replaying a batch rewrites identical documents: the collection does not change."""
        if not documents:
            return 0  # pymongo refuses an empty bulk write
        requests = [ReplaceOne({"_id": d["_id"]}, dict(d), upsert=True) for d in documents]
        return self.collections.bulk_write(collection, requests, ordered=False)["upserted"]

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        """Documents matching ``filter``, ordered by ``sort`` ((field, 1 | -1) pairs), at most
        ``limit`` of them (0: no limit)."""
        return self.collections.find(collection, filter, sort=sort, limit=limit)

    def ensure_indexes(self) -> None:
        """Create the indexes the queries and retention need; safe to run on every cold start.

        A changed retention replaces the TTL index: servers refuse to re-create an index under the same
        name with other options (and DocumentDB's ``collMod`` support varies), so drop, then create.
        """
        ttl_s = self.raw_tick_retention_days * 24 * 60 * 60
        existing = self.collections.index_information(TICKS).get(TTL_INDEX)
        if existing is not None and existing.get("expireAfterSeconds") != ttl_s:
            logger.info("raw tick retention changed to %d days: replacing the TTL index", ttl_s // 86400)
            self.collections.drop_index(TICKS, TTL_INDEX)
        self.collections.create_index(TICKS, [("ts_date", 1)], name=TTL_INDEX, expireAfterSeconds=ttl_s)
        for collection, indexes in INDEXES.items():
            for name, keys in indexes.items():
                self.collections.create_index(collection, keys, name=name)
