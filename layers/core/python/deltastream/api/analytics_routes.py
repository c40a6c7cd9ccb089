"""AnalyticsFunction's routes: PCR, max pain, volatility surface, OI build-up, OHLC bars and IV rank
(ARCHITECTURE §5), read through :mod:`deltastream.services.market_reads`.

The enrichment computes every figure; these routes only read them. The one exception is the pain
curve of ``/max-pain?curve=true``, computed by :func:`deltastream.domain.chain.max_pain_curve` — the
only numpy use of this function, so numpy is imported on that path alone, not at cold start.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from deltastream.api.common import (
    BEARER,
    LIVE,
    PROTECTED_ERRORS,
    ApiModel,
    BuildupRow,
    Catalogue,
    expiry_query,
    limit_query,
    new_router,
    today,
)
from deltastream.ports import History
from deltastream.services import market_reads as reads

Source = Literal["redis", "mongodb"]


class BarWindow(IntEnum):
    """OHLC bar windows, in minutes (those the enrichment builds)."""

    ONE = 1
    FIVE = 5
    FIFTEEN = 15


# --- models ------------------------------------------------------------------------------------------


class Snapshot(ApiModel):
    """Which chain snapshot the figures are from."""

    product: str
    expiry: date
    tick_id: int
    ts: str
    source: Source


class PcrPoint(ApiModel):
    ts: str
    tick_id: int
    pcr_oi: float | None = None
    pcr_volume: float | None = None


class Pcr(Snapshot):
    pcr_oi: float | None = None  # put OI / call OI; None without call OI
    pcr_volume: float | None = None
    total_call_oi: int
    total_put_oi: int
    history: list[PcrPoint] | None = None  # oldest first, with ?history=true


class PainPoint(ApiModel):
    strike: float
    pain: float  # payout to holders (currency × contracts) if the underlying settles at ``strike``


class MaxPain(Snapshot):
    spot: float
    max_pain_strike: float
    curve: list[PainPoint] | None = None  # with ?curve=true


class Surface(ApiModel):
    """Implied volatility on a moneyness × expiry grid: ``iv[i][j]`` at ``t[i]``, ``moneyness[j]``."""

    product: str
    expiries: list[str | None]
    t: list[float | None]  # years to expiry
    moneyness: list[float | None]  # ln(K/F)
    iv: list[list[float | None]]


class OiBuildup(Snapshot):
    spot: float
    rows: list[BuildupRow]


class Bar(ApiModel):
    window: int
    start: str
    open: float
    high: float
    low: float
    close: float
    ticks: int
    first_ts: str
    last_ts: str


class Ohlc(ApiModel):
    product: str
    window: int
    source: Literal["redis", "mongodb", "redis+mongodb"]
    bars: list[Bar]  # oldest first; the last one may still be open


class IvRank(Snapshot):
    atm_iv: float | None = None
    iv_rank: float | None = None  # 0..100 within the IV history's range
    iv_percentile: float | None = None  # 0..100: share of the history below the current IV
    history_length: int | None = None  # observations behind them; None when Redis is away


def pain_curve(chain: dict[str, Any]) -> list[PainPoint]:
    """The pain at each listed strike of an enriched chain (see the module docstring on numpy)."""
    from deltastream.domain.chain import max_pain_curve

    call_oi = {q["strike"]: q["oi"] for q in chain["calls"]}
    put_oi = {q["strike"]: q["oi"] for q in chain["puts"]}
    strikes = sorted(call_oi.keys() | put_oi.keys())
    curve = max_pain_curve(strikes, [call_oi.get(k, 0) for k in strikes], [put_oi.get(k, 0) for k in strikes])
    return [
        PainPoint(strike=k, pain=p) for k, p in zip(curve.strikes.tolist(), curve.pain.tolist(), strict=True)
    ]


# --- routes ------------------------------------------------------------------------------------------


def analytics_router(latest: reads.LatestReader, history: History, catalogue: Catalogue) -> Router:
    """The routes of AnalyticsFunction on its stores."""
    router = new_router()

    def iso(expiry: date | None) -> str | None:
        return expiry.isoformat() if expiry else None

    @router.get(
        "/api/analytics/pcr/<product>",
        summary="Put/call ratios (OI and volume) of the newest chain; the series with ?history=true",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def pcr(
        product: str,
        history_: Annotated[bool, Query(alias="history", description="Add the series")] = False,
        expiry: Annotated[date | None, expiry_query()] = None,
        limit: Annotated[int, limit_query(100, 1000)] = 100,
    ) -> Pcr:
        symbol = catalogue.require(product)
        found = reads.summary(latest, history, symbol, today=today(), expiry=iso(expiry))
        latest_pcr = Pcr.model_validate({**found.value, "source": found.source})
        if history_:
            series = reads.pcr_series(history, symbol, latest_pcr.expiry.isoformat(), limit=limit)
            latest_pcr.history = [PcrPoint.model_validate(p) for p in series]
        return latest_pcr

    @router.get(
        "/api/analytics/max-pain/<product>",
        summary="Max-pain strike of the newest chain; the pain per strike with ?curve=true",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def max_pain(
        product: str,
        expiry: Annotated[date | None, expiry_query()] = None,
        curve: Annotated[bool, Query(description="Add the pain curve")] = False,
    ) -> MaxPain:
        symbol = catalogue.require(product)
        found = reads.chains(latest, history, symbol, today=today(), expiry=iso(expiry))
        chain = found.records[0]
        result = MaxPain.model_validate({**chain, "source": found.source})
        if curve:
            result.curve = pain_curve(chain)
        return result

    @router.get(
        "/api/analytics/volatility-surface/<product>",
        summary="The latest implied volatility surface (moneyness × expiry)",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def volatility_surface(product: str) -> Surface:
        symbol = catalogue.require(product)
        return Surface.model_validate(reads.surface(latest, symbol))

    @router.get(
        "/api/analytics/oi-buildup/<product>",
        summary="OI build-up per strike of the newest chain",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def oi_buildup(product: str, expiry: Annotated[date | None, expiry_query()] = None) -> OiBuildup:
        symbol = catalogue.require(product)
        found = reads.chains(latest, history, symbol, today=today(), expiry=iso(expiry))
        chain = found.records[0]
        return OiBuildup.model_validate({**chain, "rows": chain["buildup"], "source": found.source})

    @router.get(
        "/api/analytics/ohlc/<product>",
        summary="OHLC bars of the underlying, oldest first (the last one may still be open)",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def ohlc(
        product: str,
        window: Annotated[BarWindow, Query(description="Minutes: 1, 5 or 15")] = BarWindow.ONE,
        limit: Annotated[int, limit_query(100, 1000)] = 100,
    ) -> Ohlc:
        symbol = catalogue.require(product)
        found = reads.bars(latest, history, symbol, int(window), limit=limit)
        return Ohlc.model_validate(
            {"product": symbol, "window": int(window), "source": found.source, "bars": found.value}
        )

    @router.get(
        "/api/analytics/iv-rank/<product>",
        summary="IV rank and IV percentile of the ATM implied volatility (nearest expiry)",
        tags=["analytics"],
        security=BEARER,
        responses=PROTECTED_ERRORS,
        cache_control=LIVE,
    )
    def iv_rank(product: str) -> IvRank:
        symbol = catalogue.require(product)
        found = reads.summary(latest, history, symbol, today=today())
        return IvRank.model_validate(
            {
                **found.value,
                "source": found.source,
                "history_length": reads.iv_history_length(latest, symbol),
            }
        )

    return router
