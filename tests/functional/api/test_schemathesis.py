"""Property-based: every operation of the data and analytics functions, per the combined OpenAPI
document, answers no 5xx and conforms to its documented responses (schemathesis, in process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deltastream.adapters.mongo import MongoHistory
from deltastream.adapters.redis_state import redis_client
from deltastream.api.openapi import openapi_document

from .conftest import Functions, enrich, functions_env, load_function, market_records
from .gateway import invoke, proxy_event

schema = schemathesis.openapi.from_dict(dict(openapi_document())).include(
    path_regex=r"^/(health|api/(data|analytics)/)"
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def seeded(redis_url: str) -> Iterator[Functions]:
    """Both functions on NIFTY data enriched once for every example (the examples only read)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        client = redis_client(redis_url)
        client.flushall()
        mongo = MongoHistory.from_url("", "deltastream_api_schemathesis")
        records = market_records("NIFTY")
        enrich(client, mongo, records.ticks)
        for snapshot in records.chains:
            enrich(client, mongo, [snapshot])
        functions_env(monkeypatch, redis_url, mongo)
        yield Functions(load_function("data"), load_function("analytics"))
        client.close()


def call(functions: Functions, case: Any) -> schemathesis.Response:
    """The case as API Gateway would deliver it, to the function the template routes it to."""
    query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (case.query or {}).items()}
    module = functions.analytics if case.formatted_path.startswith("/api/analytics/") else functions.data
    answer = invoke(module, proxy_event(case.formatted_path, query or None))
    request = requests.Request("GET", f"https://api.example.com{case.formatted_path}", params=query).prepare()
    return schemathesis.Response(
        status_code=answer.status,
        headers={k: [v] for k, v in answer.headers.items()},
        content=answer.text.encode(),
        request=request,
        elapsed=0.0,
        verify=True,
    )


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case: Any, seeded: Functions) -> None:
    case.validate_response(call(seeded, case), checks=CHECKS)


def test_the_property_test_reads_seeded_data(seeded: Functions, redis_url: str) -> None:
    assert redis.Redis.from_url(redis_url).exists("ds:latest:summary:NIFTY")
    assert invoke(seeded.data, proxy_event("/api/data/chain/NIFTY")).status == 200
