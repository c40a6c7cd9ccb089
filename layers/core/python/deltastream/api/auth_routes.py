"""The auth routes (``POST /api/auth/register|login|refresh|logout|verify``) as a Powertools router.

The routes live on a module-level :data:`router`, apart from any resolver, so the function serving the
OpenAPI document can ``include_router(auth_routes.router)`` and describe them without running them.
:func:`create_resolver` builds the AuthFunction's resolver: validation on (pydantic models below),
CORS for the one configured origin, the service injected through Powertools' ``Depends`` (its
``dependency_overrides``), and every error mapped to the §5 shape by :func:`install_error_handlers`.

Bad input is always a 4xx: unreadable JSON and schema violations are 422 naming the field, an
unsupported content type 415; only a fault of ours is a 500 (a store outage: 503).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, Final, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, ConfigDict, Field

from deltastream.api.errors import ApiError, NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from deltastream.auth.service import AuthService, Session, Verified
from deltastream.auth.tokens import MAX_TOKEN_LENGTH, bearer_token

logger = logging.getLogger(__name__)

TAG: Final = "auth"
MAX_PASSWORD_INPUT: Final = 1024  # the policy caps new passwords at 128; this only bounds the work
MAX_NAME_LENGTH: Final = 100


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


# --- request and response models -----------------------------------------------------------------


class RegisterRequest(BaseModel):
    email: str = Field(min_length=1, max_length=320, examples=["ada@example.com"])
    password: str = Field(
        min_length=1,
        max_length=MAX_PASSWORD_INPUT,
        description="10 to 128 characters, with a letter and a digit, not the email",
    )
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH, examples=["Ada"])


class LoginRequest(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class VerifyRequest(BaseModel):
    token: str | None = Field(
        default=None, max_length=MAX_TOKEN_LENGTH, description="An access token, if not sent as Bearer"
    )


class UserModel(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    email: str
    name: str


class SessionResponse(BaseModel):
    token: str = Field(description="Access JWT: send it as `Authorization: Bearer <token>`")
    refresh_token: str = Field(description="Opaque; exchange at /api/auth/refresh (single use)")
    expires_in: int = Field(description="Seconds until the access token expires")
    user: UserModel

    @classmethod
    def of(cls, session: Session) -> SessionResponse:
        return cls(
            token=session.access_token,
            refresh_token=session.refresh_token,
            expires_in=session.expires_in,
            user=UserModel(id=session.user.id, email=session.user.email, name=session.user.name),
        )


class VerifyResponse(BaseModel):
    valid: bool = True
    user: UserModel
    expires_at: datetime

    @classmethod
    def of(cls, verified: Verified) -> VerifyResponse:
        user = verified.user
        return cls(
            user=UserModel(id=user.id, email=user.email, name=user.name),
            expires_at=datetime.fromtimestamp(verified.expires_at, tz=UTC),
        )


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    """Every error: ``{"error": {"code", "message"}}`` (ARCHITECTURE §5)."""

    error: ErrorDetail


def _error_docs(*statuses: int) -> dict[int, OpenAPIResponse]:
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for status in statuses
    }


def _session_docs(status: int) -> dict[int, OpenAPIResponse]:
    return {status: {"description": "Signed in", "content": {"application/json": {"model": SessionResponse}}}}


# --- routes ----------------------------------------------------------------------------------------

router = Router()  # type: ignore[no-untyped-call]


def auth_service() -> AuthService:
    """The service the routes use; :func:`create_resolver` overrides this dependency."""
    raise LookupError("no AuthService wired: build the resolver with create_resolver(service, ...)")


Service = Annotated[AuthService, Depends(auth_service)]


def _authorization() -> str | None:
    return bearer_token(router.current_event.headers.get("authorization"))


def _source_ip() -> str | None:
    event = cast(APIGatewayProxyEvent, router.current_event)
    return event.request_context.identity.source_ip or None


def _json(status: int, model: BaseModel) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
    )


@router.post(
    "/api/auth/register",
    summary="Create an account and sign in",
    tags=[TAG],
    responses={**_session_docs(201), **_error_docs(409, 422)},
)
def register(request: RegisterRequest, service: Service) -> Response[Any]:
    session = service.register(email=request.email, password=request.password, name=request.name or "")
    return _json(201, SessionResponse.of(session))


@router.post(
    "/api/auth/login",
    summary="Sign in with email and password",
    tags=[TAG],
    responses={**_session_docs(200), **_error_docs(401, 422, 429)},
)
def login(request: LoginRequest, service: Service) -> Response[Any]:
    session = service.login(email=request.email, password=request.password, source_ip=_source_ip())
    return _json(200, SessionResponse.of(session))


@router.post(
    "/api/auth/refresh",
    summary="Exchange a refresh token for new tokens (rotation)",
    tags=[TAG],
    responses={**_session_docs(200), **_error_docs(401, 422)},
)
def refresh(request: RefreshRequest, service: Service) -> Response[Any]:
    return _json(200, SessionResponse.of(service.refresh(request.refresh_token)))


@router.post(
    "/api/auth/logout",
    summary="End the session (refresh token family and the Bearer access token)",
    tags=[TAG],
    responses={204: {"description": "Signed out"}, **_error_docs(422)},
)
def logout(request: LogoutRequest, service: Service) -> Response[Any]:
    service.logout(refresh_token=request.refresh_token, access_token=_authorization())
    return Response(status_code=204)


@router.post(
    "/api/auth/verify",
    summary='Check an access token (Bearer, or {"token"} in the body)',
    tags=[TAG],
    responses={
        200: {"description": "Valid", "content": {"application/json": {"model": VerifyResponse}}},
        **_error_docs(401, 422),
    },
)
def verify(service: Service, request: VerifyRequest | None = None) -> Response[Any]:
    token = _authorization() or (request.token if request else None)
    if not token:
        raise Unauthorized('missing token: send Authorization: Bearer <token> or {"token": ...}')
    return _json(200, VerifyResponse.of(service.verify(token)))


# --- resolver --------------------------------------------------------------------------------------


def _error_response(error: ApiError) -> Response[Any]:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=error.body(),
        headers=dict(error.headers),
    )


def _validation_error(error: RequestValidationError) -> ValidationFailed:
    """The first problem of a Powertools validation error, naming its field: ``("body", "email")`` →
    ``email``. Pydantic's ``msg`` never echoes the input (no password in an error)."""
    problems = error.errors()
    first = problems[0] if problems else {"loc": ("body",), "msg": "invalid request", "type": ""}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
    field = ".".join(loc) or "body"
    if first.get("type") == "json_invalid":
        return ValidationFailed("the request body is not valid JSON", field="body")
    if first.get("type") in ("model_attributes_type", "dict_type", "model_type"):
        return ValidationFailed("the request body must be a JSON object", field="body")
    return ValidationFailed(f"{field}: {first.get('msg', 'invalid value')}", field=field)


def _is_outage(error: Exception) -> bool:
    """A store we depend on is unreachable (503 lets clients retry) — checked without importing
    pymongo when nothing has imported it."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    outages: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
    pymongo_errors = sys.modules.get("pymongo.errors")
    if pymongo_errors is not None:
        outages += (pymongo_errors.ConnectionFailure,)
    return isinstance(error, outages)


def _api_error(error: ApiError) -> Response[Any]:
    return _error_response(error)


def _invalid_request(error: RequestValidationError) -> Response[Any]:
    return _error_response(_validation_error(error))


def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return _error_response(UnsupportedMediaType("send the body as application/json"))


def _not_found(error: NotFoundError) -> Response[Any]:
    return _error_response(NotFound("no such route"))


def _unexpected(error: Exception) -> Response[Any]:
    if _is_outage(error):
        logger.warning("dependency unavailable: %s", error)
        return _error_response(ServiceUnavailable("temporarily unavailable, retry shortly"))
    logger.exception("unhandled error")
    return Response(
        status_code=500,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": "internal", "message": "internal error"}},
    )


def install_error_handlers(resolver: APIGatewayRestResolver) -> None:
    """Map every exception to the §5 error shape on ``resolver`` (Powertools' own 422 body, which is
    ``{"statusCode", "detail"}``, is replaced; the most specific handler wins)."""
    resolver.exception_handler(ApiError)(_api_error)
    resolver.exception_handler(RequestValidationError)(_invalid_request)
    resolver.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    resolver.not_found(_not_found)
    resolver.exception_handler(Exception)(_unexpected)


def create_resolver(service: AuthService, *, cors_allow_origin: str) -> APIGatewayRestResolver:
    """The AuthFunction's resolver: :data:`router`'s routes on ``service``, CORS for one origin."""
    cors = CORSConfig(
        allow_origin=cors_allow_origin,
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    resolver = APIGatewayRestResolver(cors=cors, enable_validation=True)
    resolver.include_router(router)
    resolver.dependency_overrides[auth_service] = lambda: service
    install_error_handlers(resolver)
    return resolver
