"""The data and analytics routes on in-memory stores: parameter validation (422 naming the field),
bounds, unknown products, the catalogue, error shapes. No network: the resolvers run in process."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from deltastream.api.analytics_routes import analytics_router
from deltastream.api.common import ApiSettings, Catalogue, build_resolver
from deltastream.api.data_routes import data_router
from deltastream.domain.products import PRODUCTS
from tests.functional.api.gateway import Answer, invoke, proxy_event

from .fakes import FakeRedis, MemoryHistory

ORIGIN = "https://app.example.com"


def docs(fmt: str, base_path: str) -> Response[Any]:
    return Response(status_code=200, content_type="text/plain", body=f"{fmt} {base_path}")


@pytest.fixture
def api() -> APIGatewayRestResolver:
    latest, history, catalogue = FakeRedis(), MemoryHistory(), Catalogue(PRODUCTS)
    return build_resolver(
        data_router(latest, history, catalogue, docs=docs),
        analytics_router(latest, history, catalogue),
        settings=ApiSettings(cors_allow_origin=ORIGIN),
    )


def get(api: APIGatewayRestResolver, path: str, **query: str) -> Answer:
    return invoke(api, proxy_event(path, query or None))


def fields_of(answer: Answer) -> list[str]:
    assert answer.status == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    return [f["field"] for f in error["details"]["fields"]]


@pytest.mark.parametrize(
    ("path", "query", "fields"),
    [
        ("/api/data/underlying/NIFTY", {"limit": "0"}, ["limit"]),
        ("/api/data/underlying/NIFTY", {"limit": "1001"}, ["limit"]),
        ("/api/data/underlying/NIFTY", {"limit": "ten"}, ["limit"]),
        ("/api/data/underlying/NIFTY", {"from": "yesterday", "to": "2026-13-01T00:00:00"}, ["from", "to"]),
        (
            "/api/data/underlying/NIFTY",
            {"from": "2026-11-24T00:00:00Z", "to": "2026-11-23T00:00:00Z"},
            ["from"],
        ),
        ("/api/data/chain/NIFTY", {"limit": "101"}, ["limit"]),
        ("/api/data/chain/NIFTY", {"expiry": "24-11-2026"}, ["expiry"]),
        ("/api/analytics/pcr/NIFTY", {"history": "maybe"}, ["history"]),
        ("/api/analytics/pcr/NIFTY", {"limit": "-1"}, ["limit"]),
        ("/api/analytics/max-pain/NIFTY", {"expiry": "soon"}, ["expiry"]),
        ("/api/analytics/ohlc/NIFTY", {"window": "2"}, ["window"]),
        ("/api/analytics/ohlc/NIFTY", {"window": "5", "limit": "100000"}, ["limit"]),
        ("/api/docs", {"format": "xml"}, ["format"]),
    ],
)
def test_invalid_parameters_are_a_422_naming_each_field(
    api: APIGatewayRestResolver, path: str, query: dict[str, str], fields: list[str]
) -> None:
    assert fields_of(get(api, path, **query)) == fields


@pytest.mark.parametrize(("limit", "status"), [("1", 404), ("1000", 404), ("1001", 422), ("0", 422)])
def test_limit_bounds_of_ticks(api: APIGatewayRestResolver, limit: str, status: int) -> None:
    assert get(api, "/api/data/underlying/NIFTY", limit=limit).status == status  # 404: no data yet


@pytest.mark.parametrize(
    "path",
    [
        "/api/data/underlying/XYZ",
        "/api/data/chain/XYZ",
        "/api/data/expiries/XYZ",
        "/api/analytics/pcr/XYZ",
        "/api/analytics/max-pain/XYZ",
        "/api/analytics/volatility-surface/XYZ",
        "/api/analytics/oi-buildup/XYZ",
        "/api/analytics/ohlc/XYZ",
        "/api/analytics/iv-rank/XYZ",
    ],
)
def test_unknown_product_is_a_404_naming_the_known_ones(api: APIGatewayRestResolver, path: str) -> None:
    answer = get(api, path)
    assert answer.status == 404
    assert answer.json() == {
        "error": {"code": "not_found", "message": f"unknown product 'XYZ'; known: {', '.join(PRODUCTS)}"}
    }


def test_product_symbols_are_case_insensitive(api: APIGatewayRestResolver) -> None:
    message = get(api, "/api/data/expiries/nifty").json()["error"]["message"]
    assert message == "no expiries yet for NIFTY: is the feed running?"


def test_catalogue_lists_contract_specs_and_expiry_rules(api: APIGatewayRestResolver) -> None:
    answer = get(api, "/api/data/products")
    assert answer.status == 200
    products = {p["symbol"]: p for p in answer.json()["products"]}
    assert list(products) == list(PRODUCTS)
    assert products["BANKNIFTY"] == {
        "symbol": "BANKNIFTY",
        "name": "NIFTY Bank",
        "currency": "INR",
        "lot_size": 35,
        "strike_step": 100.0,
        "tick_size": 0.05,
        "expiry": {
            "summary": "monthly only; monthly on the last Tuesday",
            "weekday": "Tuesday",
            "weekly": False,
            "daily": False,
            "monthly": "last",
            "close_time": "15:30",
            "timezone": "Asia/Kolkata",
        },
    }
    assert products["AAPL"]["expiry"]["summary"] == "weekly on Friday; monthly on the third Friday"


def test_catalogue_is_limited_to_the_configured_products() -> None:
    catalogue = Catalogue(["SPY", "NOPE", "NIFTY"])
    assert catalogue.symbols == ("SPY", "NIFTY")


def test_unknown_route_is_a_404_in_the_error_shape(api: APIGatewayRestResolver) -> None:
    answer = get(api, "/api/data/nothing/here")
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_cors_allows_the_configured_origin_only(api: APIGatewayRestResolver) -> None:
    event = proxy_event("/health")
    event["headers"]["Origin"] = ORIGIN
    event["multiValueHeaders"]["Origin"] = [ORIGIN]
    answer = invoke(api, event)
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


def test_health_says_degraded_when_redis_is_away() -> None:
    latest = FakeRedis()
    latest.down = True
    api = build_resolver(
        data_router(latest, MemoryHistory(), Catalogue(PRODUCTS), docs=docs), settings=ApiSettings()
    )
    answer = invoke(api, proxy_event("/health", user=None))
    assert (answer.status, answer.json()) == (200, {"status": "degraded", "redis": "unavailable"})


def test_docs_are_rendered_for_the_stage_path(api: APIGatewayRestResolver) -> None:
    assert get(api, "/api/docs", format="json").text == "json /prod"
