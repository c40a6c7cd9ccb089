"""DataFunction's routes: health, the docs, the product catalogue and market data reads
(ARCHITECTURE §5). Reads go to :mod:`deltastream.services.market_reads` (Redis first, then MongoDB).

Cold start: no numpy here — the catalogue (:mod:`deltastream.domain.products`) is pure Python.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from deltastream.api.common import (
    BEARER,
    JSON,
    LIVE,
    PROTECTED_ERRORS,
    ApiModel,
    BuildupRow,
    Catalogue,
    error_responses,
    expiry_query,
    limit_query,
    new_router,
    today,
)
from deltastream.api.errors import ValidationFailed
from deltastream.domain.expiries import MonthlyExpiryWeek
from deltastream.domain.products import PRODUCTS, Product
from deltastream.ports import History
from deltastream.services import market_reads as reads

Source = Literal["redis", "mongodb"]
DocsRenderer = Callable[[str, str], Response[Any]]


# --- models ------------------------------------------------------------------------------------------


class Health(ApiModel):
    status: Literal["ok", "degraded"]  # degraded: Redis is away, reads fall back to MongoDB
    redis: Literal["ok", "unavailable"]


class ExpiryRuleInfo(ApiModel):
    summary: str
    weekday: str
    weekly: bool
    daily: bool
    monthly: Literal["third", "last"]
    close_time: str  # HH:MM, local to ``timezone``
    timezone: str


class ProductInfo(ApiModel):
    symbol: str
    name: str
    currency: str
    lot_size: int
    strike_step: float
    tick_size: float
    expiry: ExpiryRuleInfo


class Products(ApiModel):
    products: list[ProductInfo]


class Tick(ApiModel):
    product: str
    tick_id: int
    price: float
    ts: str


class Ticks(ApiModel):
    product: str
    source: Source
    ticks: list[Tick]  # newest first


class Quote(ApiModel):
    strike: float
    bid: float
    ask: float
    last: float
    volume: int | float
    oi: int | float
    iv: float | None = None  # annualised; None where no volatility reprices the quote
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None  # per 1 vol point
    theta: float | None = None  # per calendar day


class Chain(ApiModel):
    """An enriched chain snapshot (ARCHITECTURE §3-§4)."""

    product: str
    expiry: date
    tick_id: int
    ts: str
    spot: float
    r: float
    q: float
    t: float | None = None  # years to expiry (ACT/365)
    strikes: list[float]
    calls: list[Quote]
    puts: list[Quote]
    pcr_oi: float | None = None
    pcr_volume: float | None = None
    total_call_oi: int
    total_put_oi: int
    atm_strike: float
    atm_iv: float | None = None
    atm_straddle: float | None = None
    expected_move: float | None = None
    max_pain_strike: float
    support: float | None = None
    resistance: float | None = None
    iv_rank: float | None = None
    iv_percentile: float | None = None
    buildup: list[BuildupRow]


class Chains(ApiModel):
    product: str
    expiry: date
    source: Source
    chains: list[Chain]  # newest first


class Expiries(ApiModel):
    product: str
    source: Source
    expiries: list[date]


class DocsFormat(StrEnum):
    HTML = "html"
    JSON = "json"


# --- the catalogue -----------------------------------------------------------------------------------

_MONTHLY = {MonthlyExpiryWeek.THIRD: "third", MonthlyExpiryWeek.LAST: "last"}


def product_info(product: Product) -> ProductInfo:
    rule = product.expiry_rule
    weekday = calendar.day_name[rule.weekday]
    monthly = _MONTHLY[rule.monthly_week]
    cadence = "daily (Mon-Fri)" if rule.daily else f"weekly on {weekday}" if rule.weekly else "monthly only"
    return ProductInfo(
        symbol=product.symbol,
        name=product.name,
        currency=product.currency,
        lot_size=product.lot_size,
        strike_step=product.strike_step,
        tick_size=product.tick_size,
        expiry=ExpiryRuleInfo(
            summary=f"{cadence}; monthly on the {monthly} {weekday}",
            weekday=weekday,
            weekly=rule.weekly or rule.daily,
            daily=rule.daily,
            monthly=monthly,  # type: ignore[arg-type]  # one of the Literal's values by construction
            close_time=product.expiry_close_time.strftime("%H:%M"),
            timezone=product.timezone,
        ),
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Naive query times are UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- routes ------------------------------------------------------------------------------------------


def data_router(
    latest: reads.LatestReader,
    history: History,
    catalogue: Catalogue,
    *,
    docs: DocsRenderer,
) -> Router:
    """The routes of DataFunction on its stores; ``docs(format, base_path)`` answers /api/docs (the
    function passes :func:`deltastream.api.openapi.docs_response`)."""
    router = new_router()

    @router.get(
        "/health",
        summary="Liveness, and whether Redis answers",
        tags=["health"],
        responses=error_responses(),
        cache_control=LIVE,
    )
    def health() -> Health:
        up = reads.ping(latest)
        return Health(status="ok" if up else "degraded", redis="ok" if up else "unavailable")

    @router.get(
        "/api/docs",
        summary="This API's documentation: Swagger UI, or the OpenAPI document with ?format=json",
        tags=["docs"],
        responses={
            200: {
                "description": "Swagger UI (HTML) or the OpenAPI 3 document (JSON)",
                "content": {
                    "text/html": {"schema": {"type": "string"}},
                    JSON: {"schema": {"type": "object"}},
                },
            },
            **error_responses(ok=False),
        },
    )
    def api_docs(fmt: Annotated[DocsFormat, Query(alias="format")] = DocsFormat.HTML) -> Response[Any]:
        event = cast(APIGatewayProxyEvent, router.current_event)
        stage = event.request_context.stage
        base_path = f"/{stage}" if stage and event.request_context.path.startswith(f"/{stage}/") else ""
        return docs(fmt.value, base_path)

    @router.get(
        "/api/data/products",
        summary="The product catalogue: contract specs and expiry rules",
        tags=["data"],
        security=BEARER,
        responses=error_responses(401, 429),
        cache_control="max-age=300",
    )
    def products() -> Products:
        return Products(products=[product_info(PRODUCTS[s]) for s in catalogue.symbols])

    @router.get(
        "/api/data/underlying/<product>",
        summary="Underlying ticks, newest first (the latest from Redis; ranges from MongoDB)",
        tags=["data"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def underlying(
        product: str,
        limit: Annotated[int, limit_query(100, 1000)] = 100,
        start: Annotated[datetime | None, Query(alias="from", description="ISO-8601; naive = UTC")] = None,
        end: Annotated[datetime | None, Query(alias="to", description="ISO-8601; naive = UTC")] = None,
    ) -> Ticks:
        symbol = catalogue.require(product)
        start, end = _utc(start), _utc(end)
        if start is not None and end is not None and start > end:
            message = "'from' must not be after 'to'"
            field = {"field": "from", "in": "query", "message": message}
            raise ValidationFailed(f"invalid request: from: {message}", fields=[field])
        found = reads.ticks(latest, history, symbol, limit=limit, start=start, end=end)
        return Ticks.model_validate({"product": symbol, "source": found.source, "ticks": found.value})

    @router.get(
        "/api/data/chain/<product>",
        summary="Enriched option chains of one expiry (default: the nearest), newest first",
        tags=["data"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def chain(
        product: str,
        expiry: Annotated[date | None, expiry_query()] = None,
        limit: Annotated[int, limit_query(1, 100)] = 1,
    ) -> Chains:
        symbol = catalogue.require(product)
        found = reads.chains(
            latest,
            history,
            symbol,
            today=today(),
            expiry=expiry.isoformat() if expiry else None,
            limit=limit,
        )
        return Chains.model_validate(
            {"product": symbol, "expiry": found.expiry, "source": found.source, "chains": found.records}
        )

    @router.get(
        "/api/data/expiries/<product>",
        summary="The product's listed expiries, in date order",
        tags=["data"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def expiries(product: str) -> Expiries:
        symbol = catalogue.require(product)
        found = reads.expiries(latest, history, symbol, today=today())
        return Expiries.model_validate({"product": symbol, "source": found.source, "expiries": found.value})

    return router
