"""One contract, every History backend: in-process mongomock, the shared embedded store, real MongoDB.

The services rely on these properties (idempotent replays above all), so each backend must show them;
a backend that passes here can replace another without the services noticing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import deltastream
from deltastream.adapters.mongo import BARS, CHAINS, TICKS, TTL_INDEX, MongoHistory, connect

CORE = Path(deltastream.__file__).resolve().parent.parent  # PYTHONPATH of another process
BACKENDS = ("mongomock", "embedded", "mongodb")
T0 = datetime(2024, 7, 1, 9, 15, tzinfo=UTC)


def tick(tick_id: int, product: str = "NIFTY", price: float = 21500.0) -> dict[str, Any]:
    return {
        "_id": f"{product}:underlying:-:{tick_id}",
        "product": product,
        "tick_id": tick_id,
        "price": price + tick_id,
        "ts_date": T0 + timedelta(seconds=tick_id),
    }


@pytest.fixture(params=BACKENDS)
def history(request: pytest.FixtureRequest) -> Iterator[MongoHistory]:
    """A MongoHistory on an empty database of each backend."""
    database = f"contract_{uuid.uuid4().hex[:12]}"  # shared servers: a database of its own per test
    if request.param == "mongomock":
        url = ""
    elif request.param == "embedded":
        url = request.getfixturevalue("embedded_mongo_url")
    else:
        url = os.environ.get("MONGO_URL", "")
        if not url or url.startswith("mongomock://"):
            pytest.skip("real MongoDB: set MONGO_URL=mongodb://... to run the contract against a server")
    history = MongoHistory(connect(url, database), raw_tick_retention_days=7)
    yield history
    for collection in (TICKS, CHAINS, BARS):
        history.collections.drop(collection)


def test_upsert_inserts_documents_and_counts_the_new_ones(history: MongoHistory) -> None:
    # GIVEN two documents already stored
    assert history.upsert(TICKS, [tick(1), tick(2)]) == 2
    # WHEN a batch overlaps them
    new = history.upsert(TICKS, [tick(2), tick(3), tick(4)])
    # THEN only the unseen documents count as new, and all are stored
    assert new == 2
    assert [d["tick_id"] for d in history.find(TICKS, {}, sort=[("tick_id", 1)])] == [1, 2, 3, 4]


def test_upsert_of_nothing_is_a_no_op(history: MongoHistory) -> None:
    assert history.upsert(TICKS, []) == 0
    assert history.find(TICKS, {}) == []


def test_replaying_a_batch_leaves_the_collection_identical(history: MongoHistory) -> None:
    # GIVEN a batch written once
    batch = [tick(i) for i in range(1, 51)]
    history.upsert(TICKS, batch)
    before = history.find(TICKS, {}, sort=[("_id", 1)])
    # WHEN it is delivered again
    new = history.upsert(TICKS, batch)
    # THEN nothing is new and nothing changed, datetimes included
    assert new == 0
    assert history.find(TICKS, {}, sort=[("_id", 1)]) == before
    assert before[0]["ts_date"] == T0 + timedelta(seconds=1)  # timezone-aware UTC on every backend


def test_upsert_replaces_a_document_with_the_same_id(history: MongoHistory) -> None:
    history.upsert(TICKS, [tick(1, price=100.0)])
    assert history.upsert(TICKS, [{"_id": tick(1)["_id"], "product": "NIFTY", "tick_id": 1}]) == 0
    (stored,) = history.find(TICKS, {})
    assert "price" not in stored  # replaced, not merged


def test_find_filters_sorts_and_limits(history: MongoHistory) -> None:
    # GIVEN ticks of two products
    history.upsert(TICKS, [tick(i, "NIFTY") for i in range(1, 11)] + [tick(i, "TSLA") for i in range(1, 4)])
    # WHEN asking for the newest three of one product after a time
    found = history.find(
        TICKS,
        {"product": "NIFTY", "ts_date": {"$gt": T0 + timedelta(seconds=2)}},
        sort=[("tick_id", -1)],
        limit=3,
    )
    # THEN
    assert [d["tick_id"] for d in found] == [10, 9, 8]
    assert {d["product"] for d in found} == {"NIFTY"}
    assert len(history.find(TICKS, {"product": "NIFTY"})) == 10  # limit 0: all of them


def test_ensure_indexes_creates_the_ttl_and_query_indexes_idempotently(history: MongoHistory) -> None:
    history.ensure_indexes()
    history.ensure_indexes()  # every cold start runs it
    ticks = history.collections.index_information(TICKS)
    assert ticks[TTL_INDEX]["expireAfterSeconds"] == 7 * 24 * 3600
    assert ticks[TTL_INDEX]["key"] == [("ts_date", 1)]
    assert ticks["product_tick_id"]["key"] == [("product", 1), ("tick_id", 1)]
    chains = history.collections.index_information(CHAINS)
    assert chains["product_expiry_tick_id"]["key"] == [("product", 1), ("expiry", 1), ("tick_id", 1)]
    assert chains["product_ts_date"]["key"] == [("product", 1), ("ts_date", 1)]
    bars = history.collections.index_information(BARS)
    assert bars["product_window_start"]["key"] == [("product", 1), ("window", 1), ("start", 1)]


def test_ensure_indexes_replaces_the_ttl_index_when_retention_changes(history: MongoHistory) -> None:
    history.ensure_indexes()
    shorter = MongoHistory(history.collections, raw_tick_retention_days=2)
    shorter.ensure_indexes()
    assert history.collections.index_information(TICKS)[TTL_INDEX]["expireAfterSeconds"] == 2 * 24 * 3600


_OTHER_PROCESS = """
import json, sys
from deltastream.adapters.mongo import TICKS, MongoHistory
history = MongoHistory.from_url(sys.argv[1], sys.argv[2])
seen = [d["tick_id"] for d in history.find(TICKS, {"product": "NIFTY"})]
history.upsert(TICKS, [{"_id": "TSLA:underlying:-:1", "product": "TSLA", "tick_id": 1}])
print(json.dumps(seen))
"""


def test_processes_share_the_embedded_store(embedded_mongo_url: str) -> None:
    # GIVEN this process wrote through the embedded store
    database = f"shared_{uuid.uuid4().hex[:12]}"
    history = MongoHistory.from_url(embedded_mongo_url, database)
    history.upsert(TICKS, [tick(1), tick(2)])
    # WHEN another process reads and writes the same database
    env = {**os.environ, "PYTHONPATH": str(CORE)}
    result = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, embedded_mongo_url, database],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    # THEN each sees what the other wrote
    assert json.loads(result.stdout) == [1, 2]
    assert [d["product"] for d in history.find(TICKS, {"product": "TSLA"})] == ["TSLA"]
    history.collections.drop(TICKS)


def test_the_embedded_store_rejects_a_wrong_authkey(embedded_mongo_url: str) -> None:
    from multiprocessing import AuthenticationError

    from deltastream.adapters.mongo_embedded import EmbeddedCollections

    intruder = EmbeddedCollections(embedded_mongo_url, "any", authkey=b"wrong")
    with pytest.raises(AuthenticationError):
        intruder.count_documents(TICKS, {})


def test_the_embedded_store_serves_threads_concurrently(embedded_mongo_url: str) -> None:
    # GIVEN one history shared by the threads of a process (as a warm Lambda worker would)
    history = MongoHistory.from_url(embedded_mongo_url, f"threads_{uuid.uuid4().hex[:12]}")

    def write(worker: int) -> int:
        return sum(history.upsert(TICKS, [tick(worker * 1000 + i)]) for i in range(50))

    # WHEN 8 threads write at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        new = sum(pool.map(write, range(8)))
    # THEN every write landed once
    assert new == 400
    assert history.collections.count_documents(TICKS, {}) == 400
    history.collections.drop(TICKS)
