"""The REST functions' real handlers on a real Redis and in-process mongomock, with market data
written by the real enrichment service (records from the synthetic market)."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import redis

from deltastream.adapters.mongo import MongoHistory
from deltastream.adapters.redis_latest import RedisLatestState
from deltastream.domain import market
from deltastream.domain.expiries import upcoming_expiries
from deltastream.domain.products import get_product
from deltastream.records import parse_record
from deltastream.services.enrich import Enricher

ROOT = Path(__file__).resolve().parents[3]


# --- market data, through the real enrichment ----------------------------------------------------------


class MemorySink:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes]] = []

    def put(self, records: Sequence[tuple[str, bytes]]) -> None:
        self.records.extend(records)


@dataclass
class Market:
    product: str
    expiries: list[str]
    ticks: list[dict[str, Any]]
    chains: list[dict[str, Any]]


def market_records(product: str = "NIFTY", *, now: datetime | None = None) -> Market:
    """Three minutes of ticks (every 10 s) and three chain snapshots of each of the two nearest
    expiries, ending a minute before ``now``."""
    spec = get_product(product)
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=4)
    rng = np.random.default_rng(7)
    expiries = upcoming_expiries(spec, start, 2)
    ticks, chains = [], []
    spot = spec.base_price
    for i in range(18):
        spot = round(spot * (1.0 + 0.0005 * ((i % 5) - 2)), 2)
        at = start + timedelta(seconds=10 * i)
        ticks.append({"v": 1, "type": "underlying", "product": product, "tick_id": i + 1, "price": spot,
                      "ts": at.isoformat()})  # fmt: skip
    for e, expiry in enumerate(expiries):
        state = None
        for i in range(3):
            at = start + timedelta(seconds=60 * i + e)
            snapshot, state = market.evolve_chain(state, spec, spot, expiry, at, rng)
            record = {"v": 1, "type": "chain", "tick_id": 100 + 10 * i, "ts": at.isoformat(),
                      **snapshot.as_record_fields()}  # fmt: skip
            chains.append(parse_record(json.dumps(record).encode()))
    chains.sort(key=lambda r: (r["tick_id"], r["expiry"]))
    return Market(product, [e.isoformat() for e in expiries], ticks, chains)


def enrich(client: redis.Redis, history: MongoHistory, records: Sequence[dict[str, Any]]) -> None:
    Enricher(latest=RedisLatestState(client), history=history, sink=MemorySink()).enrich(list(records))


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def mongo() -> MongoHistory:
    """A fresh in-process mongomock database (MONGO_URL=""; mongomock clients share their databases,
    so each test gets its own name)."""
    history = MongoHistory.from_url("", f"deltastream_api_{uuid.uuid4().hex}")
    history.ensure_indexes()
    return history


def load_function(name: str) -> ModuleType:
    """A fresh import of ``functions/<name>/app.py`` (its composition root runs again)."""
    spec = importlib.util.spec_from_file_location(f"{name}_app", ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Functions:
    data: ModuleType
    analytics: ModuleType


def functions_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, mongo: MongoHistory, **env: str) -> None:
    """The environment of the template's DataFunction/AnalyticsFunction, and their MongoDB connection
    handed the test's mongomock database (in-process mongomock is private to each client)."""
    settings = {
        "REDIS_URL": redis_url,
        "MONGO_URL": "",
        "CORS_ALLOW_ORIGIN": "https://app.example.com",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "DeltaStream",
        **env,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(MongoHistory, "from_settings", classmethod(lambda cls, settings: mongo))


@pytest.fixture
def functions(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis, mongo: MongoHistory
) -> Functions:
    """Both functions, freshly imported, on an empty Redis (``redis_client`` flushes it)."""
    functions_env(monkeypatch, redis_url, mongo)
    return Functions(load_function("data"), load_function("analytics"))


@pytest.fixture
def nifty(redis_client: redis.Redis, mongo: MongoHistory) -> Market:
    """NIFTY ticks and chains, enriched into Redis and MongoDB."""
    records = market_records("NIFTY")
    enrich(redis_client, mongo, records.ticks)
    for snapshot in records.chains:  # one batch per snapshot: build-up compares consecutive ones
        enrich(redis_client, mongo, [snapshot])
    return records
