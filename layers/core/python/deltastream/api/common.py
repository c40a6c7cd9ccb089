"""What the data and analytics functions share: settings, the resolver factory (CORS, validation,
error handlers, rate limiting), the product check, query bounds and the models both document.

Every error leaves as ``{"error": {"code", "message", "details"?}}`` (ARCHITECTURE §5): API errors
with their status, request validation as 422 naming each field, missing data as 404, storage outages
as 503, anything else as a logged 500 — never a 5xx for bad input.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import orjson
import redis
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict

from deltastream.adapters import redis_keys
from deltastream.api.errors import ApiError, NotFound, ServiceUnavailable, TooManyRequests, ValidationFailed
from deltastream.config import DEFAULT_CORS_ALLOW_ORIGIN, cors_allow_origin, positive_int
from deltastream.domain.products import PRODUCTS
from deltastream.services.market_reads import NoData, StorageUnavailable

logger = logging.getLogger(__name__)

JSON: Final = "application/json"
LIVE: Final = "no-store"  # Cache-Control of live market data
PUBLIC_PATHS: Final = frozenset({"/health", "/api/docs"})  # no authorizer, no rate limit (template.yaml)
BEARER_SCHEME: Final = "bearerAuth"
BEARER: Final[list[dict[str, list[str]]]] = [{BEARER_SCHEME: []}]  # security of a protected route


# --- settings ----------------------------------------------------------------------------------------

DEFAULT_RATE_LIMIT_PER_MINUTE: Final = 600


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """The REST functions' own settings (the stores' come from :class:`deltastream.config.Settings`)."""

    cors_allow_origin: str = DEFAULT_CORS_ALLOW_ORIGIN
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        per_minute = positive_int(env, "RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT_PER_MINUTE)
        return cls(cors_allow_origin=cors_allow_origin(env), rate_limit_per_minute=per_minute)


def today() -> date:
    """The current UTC date (expiries are calendar dates)."""
    return datetime.now(UTC).date()


# --- models every function documents -----------------------------------------------------------------


class ApiModel(BaseModel):
    """Response models: schemas built on first use (cold start), unknown fields dropped."""

    model_config = ConfigDict(defer_build=True, extra="ignore")


class ErrorInfo(ApiModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(ApiModel):
    """Every error body (ARCHITECTURE §5)."""

    error: ErrorInfo


class BuildupRow(ApiModel):
    """OI build-up of one strike: long/short build-up, short covering, long unwinding or neutral."""

    strike: float
    call: str
    call_oi_change: int
    put: str
    put_oi_change: int


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {JSON: {"model": ErrorResponse}}}


def error_responses(*statuses: int, ok: bool = True) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: 200 (its schema from the return annotation, unless ``ok`` is
    False), the given error statuses, and 422 (every route validates its input)."""
    descriptions = {
        401: "Missing or invalid access token (answered by the API Gateway authorizer)",
        404: "Unknown product or no data yet",
        422: "Invalid parameters; details.fields names each",
        429: "Rate limited; retry after the Retry-After header's seconds",
        503: "Redis and MongoDB unavailable",
    }
    responses: dict[int, OpenAPIResponse] = {200: {"description": "OK"}} if ok else {}
    responses.update({status: _error(descriptions[status]) for status in sorted({*statuses, 422})})
    return responses


PROTECTED_ERRORS: Final = error_responses(401, 404, 422, 429, 503)


def limit_query(default: int, maximum: int) -> Any:
    """A ``limit`` query parameter in [1, maximum] (out of range: 422 naming ``limit``)."""
    return Query(ge=1, le=maximum, description=f"How many, 1..{maximum} (default {default})")


def expiry_query() -> Any:
    """An ``expiry`` query parameter (YYYY-MM-DD; a malformed date is a 422 naming ``expiry``)."""
    return Query(description="YYYY-MM-DD; default: the nearest expiry")


def new_router() -> Router:
    """A Powertools Router (its constructor is unannotated: one typed place to call it)."""
    return Router()  # type: ignore[no-untyped-call]


# --- products ----------------------------------------------------------------------------------------


class Catalogue:
    """The products this stack serves: the catalogue's, restricted to the configured ones."""

    def __init__(self, configured: Iterable[str]) -> None:
        self.symbols: tuple[str, ...] = tuple(s for s in configured if s in PRODUCTS)

    def require(self, symbol: str) -> str:
        """``symbol`` in canonical (upper) case; :class:`NotFound` naming the known ones otherwise."""
        canonical = symbol.strip().upper()
        if canonical not in self.symbols:
            raise NotFound(f"unknown product {symbol!r}; known: {', '.join(self.symbols)}")
        return canonical


# --- rate limiting -----------------------------------------------------------------------------------

# One round trip, atomic: refill by elapsed time (Redis' clock, shared by every Lambda), then take one.
# Tokens are fractional (refilled continuously); the key expires once a full bucket would be back.
_TOKEN_BUCKET: Final = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated_at')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * per_ms)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated_at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, wait_ms}
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_s: int


class TokenBucket:
    """Per-user token bucket in Redis: ``per_minute`` tokens, refilled continuously; one EVALSHA per
    request (redis-py's Script loads the script again after a server restart)."""

    def __init__(self, client: redis.Redis, per_minute: int) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        self.per_minute = per_minute
        self._script = client.register_script(_TOKEN_BUCKET)

    def take(self, user_id: str) -> RateDecision:
        allowed, wait_ms = self._script(
            keys=[redis_keys.rate_limit(user_id)], args=[self.per_minute, self.per_minute / 60_000]
        )
        return RateDecision(bool(allowed), -(-int(wait_ms) // 1000))


def caller_id(event: Mapping[str, Any]) -> str | None:
    """Who is calling: the authorizer's ``userId`` (or ``principalId``); else ``ip:<source IP>``."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    user = authorizer.get("userId") or authorizer.get("principalId")
    if user:
        return str(user)
    ip = (context.get("identity") or {}).get("sourceIp")
    return f"ip:{ip}" if ip else None


def rate_limiter(bucket: TokenBucket) -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    """Middleware: one token per request on protected routes; 429 with Retry-After when none is left.
    Fails open when Redis is away: reads still work from MongoDB, and API Gateway throttles too.
    Powertools runs request validation before any middleware, so a rejected (422) request costs no
    token."""

    def limit(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        caller = caller_id(app.current_event.raw_event)
        if app.current_event.path not in PUBLIC_PATHS and caller is not None:
            try:
                decision = bucket.take(caller)
            except redis.RedisError as error:
                logger.warning("rate limiter unavailable, request let through: %r", error)
            else:
                if not decision.allowed:
                    raise TooManyRequests(
                        f"rate limit of {bucket.per_minute} requests a minute exceeded",
                        retry_after_s=decision.retry_after_s,
                    )
        return next_middleware(app)

    return limit


# --- the resolver ------------------------------------------------------------------------------------


def dumps(body: Any) -> str:
    """Response JSON: orjson turns NaN and infinities into null (JSON has no NaN)."""
    return orjson.dumps(body, default=str).decode()


def error_response(error: ApiError) -> Response[Any]:
    return Response(
        status_code=error.status, content_type=JSON, body=error.body(), headers=dict(error.headers)
    )


def _field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "request"
        fields.append(
            {"field": ".".join(location[1:]) or where, "in": where, "message": str(error.get("msg", ""))}
        )
    return fields


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every exception to the §5 error shape (see the module docstring)."""

    def api_error(error: ApiError) -> Response[Any]:
        return error_response(error)

    def invalid_request(error: RequestValidationError) -> Response[Any]:
        errors = error.errors()
        if any(e.get("loc", ("",))[0] == "response" for e in errors):  # our bug, not the caller's
            logger.error("response failed validation: %s", errors)
            return error_response(_Internal("internal error"))
        fields = _field_errors(errors)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return error_response(ValidationFailed(f"invalid request: {summary}", fields=fields))

    def no_data(error: NoData) -> Response[Any]:
        return error_response(NotFound(str(error)))

    def unavailable(error: Exception) -> Response[Any]:
        logger.warning("storage unavailable: %r", error)
        return error_response(ServiceUnavailable("market data storage is unavailable; retry shortly"))

    def internal(error: Exception) -> Response[Any]:
        logger.exception("unhandled error")
        return error_response(_Internal("internal error"))

    # Powertools picks the handler of the most specific class in the exception's MRO.
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(NoData)(no_data)
    app.exception_handler([StorageUnavailable, redis.RedisError])(unavailable)
    app.exception_handler(Exception)(internal)


class _Internal(ApiError):
    status, code = 500, "internal"


def build_resolver(
    *routers: Router, settings: ApiSettings, bucket: TokenBucket | None = None
) -> APIGatewayRestResolver:
    """The resolver of one function: validation on, CORS for the one allowed origin, error handlers,
    the rate limiter (when a bucket is given) and ``routers`` included."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=settings.cors_allow_origin, allow_headers=["Authorization", "Content-Type"]
        ),
        serializer=dumps,
    )
    register_error_handlers(app)

    def no_route(error: Exception) -> Response[Any]:
        event = app.current_event
        return error_response(NotFound(f"no route {event.http_method} {event.path}"))

    app.not_found(no_route)

    if bucket is not None:
        app.use([rate_limiter(bucket)])
    for router in routers:
        app.include_router(router)
    return app
