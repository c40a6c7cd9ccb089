"""Pure translations of the REST gateway: HTTP request → Lambda proxy event, Lambda output → HTTP
response, and the responses API Gateway makes itself (errors, CORS preflight). No sockets, no clock.

The event has the shape of API Gateway's REST (v1) Lambda proxy integration, the one
``sam local generate-event apigateway aws-proxy`` prints: single-value ``headers`` and
``queryStringParameters`` hold the *last* value, the ``multiValue*`` forms hold all of them, absent
ones are ``null``; ``path`` has no stage while ``requestContext.path`` has it; a greedy
``{proxy+}`` parameter is the rest of the path without its leading slash.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from localcloud.rest_config import CorsConfig, GatewayResponseConfig, RestApiConfig
from localcloud.server import Headers, Response

__all__ = [
    "ACCESS_DENIED",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "BASE64_ERROR",
    "EXPLICIT_DENY",
    "INTEGRATION_TIMEOUT",
    "INTERNAL_SERVER_ERROR",
    "LAMBDA_ERROR",
    "LAMBDA_THROTTLED",
    "MALFORMED_RESPONSE",
    "MISSING_AUTHENTICATION_TOKEN",
    "UNAUTHORIZED",
    "Base64BodyError",
    "GatewayError",
    "HttpRequest",
    "MalformedProxyResponse",
    "RequestScope",
    "encode_body",
    "gateway_response",
    "integration_response",
    "is_binary",
    "preflight_response",
    "proxy_event",
    "request_context",
    "request_time",
    "stage_path",
]

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Keys a REST proxy integration's output may have; any other makes the output malformed.
_RESPONSE_KEYS: Final = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
# Not copied from the function's response: the server computes them.
_HOP_BY_HOP: Final = frozenset({"content-length", "transfer-encoding", "connection"})
_CONTEXT_VARIABLE: Final = re.compile(r"\$(?:\{context\.([A-Za-z.]+)\}|context\.([A-Za-z.]+))")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request as the gateway received it (``path`` may still carry the stage)."""

    method: str
    path: str  # percent-encoded, without the query string
    query: str
    headers: tuple[tuple[str, str], ...]  # every header line, in order
    body: bytes
    source_ip: str = "127.0.0.1"

    @classmethod
    def parse(cls, method: str, target: str, headers: Headers, body: bytes, source_ip: str) -> HttpRequest:
        path, _, query = target.partition("?")
        pairs = tuple(headers.items()) if isinstance(headers, Mapping) else tuple(headers)
        return cls(method.upper(), path or "/", query, pairs, body, source_ip)

    def header(self, name: str) -> str | None:
        """The last value of a header (names are case-insensitive), as API Gateway's single-value map."""
        wanted = name.lower()
        value = None
        for key, item in self.headers:
            if key.lower() == wanted:
                value = item
        return value

    def query_parameters(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


@dataclass(frozen=True, slots=True)
class RequestScope:
    """What the gateway decided about a request before invoking: API, stage, resource, identifiers."""

    api: RestApiConfig
    account_id: str
    region: str
    resource: str  # "/items/{id}"
    path: str  # the path without the stage, percent-decoded
    path_parameters: dict[str, str]
    request_id: str
    received: datetime  # aware UTC

    @property
    def method_arn_prefix(self) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api.api_id}/{self.api.stage}"

    def method_arn(self, method: str) -> str:
        """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`` with the request's
        actual path (not the resource template), as API Gateway passes it to authorizers."""
        return f"{self.method_arn_prefix}/{method.upper()}/{self.path.lstrip('/')}"


def request_time(moment: datetime) -> str:
    """``requestTime``: ``09/Apr/2015:12:34:56 +0000`` (English month, whatever the locale)."""
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def _grouped(pairs: Iterable[tuple[str, str]], *, case_insensitive: bool) -> dict[str, list[str]]:
    """Values by name, in order; header names are grouped case-insensitively (first spelling kept)."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if case_insensitive else name
        grouped.setdefault(spelling.setdefault(key, name), []).append(value)
    return grouped


def _with_forwarding_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """API Gateway's front end adds X-Forwarded-For/-Port/-Proto; added here when the client did not."""
    pairs = list(request.headers)
    present = {name.lower() for name, _ in pairs}
    host = request.header("Host") or ""
    port = host.rpartition(":")[2] if ":" in host else "80"
    for name, value in (
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "http"),
    ):
        if name.lower() not in present:
            pairs.append((name, value))
    return pairs


def is_binary(content_type: str | None, binary_media_types: Sequence[str]) -> bool:
    """Whether ``content_type`` is one of the API's ``BinaryMediaTypes`` (``*/*``, ``image/*`` allowed)."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind = media_type.split("/", 1)[0]
    return any(t in (media_type, "*/*", f"{kind}/*") for t in binary_media_types)


def encode_body(
    body: bytes, content_type: str | None, binary_media_types: Sequence[str]
) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded``: base64 for the API's binary media types (API
    Gateway's rule) and, locally, for any body that is not UTF-8 (which API Gateway would mangle)."""
    if not body:
        return None, False
    if not is_binary(content_type, binary_media_types):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _identity(request: HttpRequest) -> dict[str, Any]:
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": request.header("User-Agent"),
        "user": None,
    }


def request_context(request: HttpRequest, scope: RequestScope) -> dict[str, Any]:
    """``requestContext`` without ``authorizer`` (added once the authorizer has run)."""
    domain = request.header("Host") or f"{scope.api.api_id}.execute-api.{scope.region}.amazonaws.com"
    epoch_ms = int(scope.received.timestamp() * 1000)
    return {
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.api.api_id}{scope.resource}").hex[:6],
        "resourcePath": scope.resource,
        "httpMethod": request.method,
        "extendedRequestId": base64.b32encode(uuid.UUID(scope.request_id).bytes).decode()[:16],
        "requestTime": request_time(scope.received),
        "path": f"/{scope.api.stage}{scope.path}",
        "accountId": scope.account_id,
        "protocol": "HTTP/1.1",
        "stage": scope.api.stage,
        "domainPrefix": domain.split(".", 1)[0].split(":", 1)[0],
        "requestTimeEpoch": epoch_ms,
        "requestId": scope.request_id,
        "identity": _identity(request),
        "domainName": domain,
        "apiId": scope.api.api_id,
    }


def proxy_event(
    request: HttpRequest, scope: RequestScope, authorizer: dict[str, Any] | None
) -> dict[str, Any]:
    """The Lambda proxy integration's event for ``request`` (REST API, payload format 1.0)."""
    headers = _grouped(_with_forwarding_headers(request), case_insensitive=True)
    query = _grouped(request.query_parameters(), case_insensitive=False)
    body, is_base64 = encode_body(request.body, request.header("Content-Type"), scope.api.binary_media_types)
    context = request_context(request, scope)
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": scope.resource,
        "path": scope.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(scope.path_parameters) or None,
        "stageVariables": dict(scope.api.stage_variables) or None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def stage_path(path: str) -> str:
    """A percent-decoded path for the event's ``path`` (``/`` kept as the root)."""
    return unquote(path) or "/"


# --- responses ---------------------------------------------------------------------------------------


class MalformedProxyResponse(ValueError):
    """The function's output is not a proxy integration response: API Gateway answers 502."""


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponse(f"header {name}: expected a string, got {type(value).__name__}")


def integration_response(payload: Any) -> Response:
    """The HTTP response for a proxy integration's output (``statusCode``, ``headers``,
    ``multiValueHeaders``, ``body``, ``isBase64Encoded``).

    As API Gateway: any other key, a non-integer status or a non-string body is a "Malformed Lambda
    proxy response" (:class:`MalformedProxyResponse`, 502); headers and multiValueHeaders are merged
    (a value in both appears once); the body is base64-decoded when ``isBase64Encoded`` is true (done
    whatever the Accept header — API Gateway also requires it to be a binary media type); without a
    Content-Type the response is ``application/json``.
    """
    if not isinstance(payload, dict):
        raise MalformedProxyResponse(f"expected a JSON object, got {type(payload).__name__}")
    unknown = payload.keys() - _RESPONSE_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unexpected keys {sorted(unknown)}")
    status = payload.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode: expected an HTTP status, got {status!r}")
    merged = _merged_headers(payload.get("headers"), payload.get("multiValueHeaders"))
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body: expected a string, got {type(body).__name__}")
    raw = (body or "").encode("utf-8")
    if payload.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise Base64BodyError(str(error)) from None
    if not any(name.lower() == "content-type" for name in merged):
        merged["Content-Type"] = ["application/json"]
    single = {name: values[0] for name, values in merged.items() if len(values) == 1}
    multi = {name: values for name, values in merged.items() if len(values) > 1}
    return Response(status, raw, single, multi)


class Base64BodyError(ValueError):
    """``isBase64Encoded`` with a body that is not base64 (API_CONFIGURATION_ERROR, 500)."""


def _merged_headers(headers: Any, multi_value_headers: Any) -> dict[str, list[str]]:
    if headers is not None and not isinstance(headers, dict):
        raise MalformedProxyResponse("headers: expected an object")
    if multi_value_headers is not None and not isinstance(multi_value_headers, dict):
        raise MalformedProxyResponse("multiValueHeaders: expected an object")
    merged: dict[str, list[str]] = {}
    for name, values in (multi_value_headers or {}).items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders.{name}: expected a list")
        merged[name] = [_header_value(name, v) for v in values]
    for name, value in (headers or {}).items():
        text = _header_value(name, value)
        if text not in merged.setdefault(name, []):
            merged[name].append(text)
    return {name: values for name, values in merged.items() if name.lower() not in _HOP_BY_HOP}


# --- the gateway's own responses ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GatewayError:
    """A response API Gateway produces itself: its gateway response type and default body."""

    response_type: str  # the GatewayResponses key that customises it
    status: int
    message: str | None
    error_type: str | None = None  # x-amzn-ErrorType
    body_key: str = "message"

    @property
    def default_type(self) -> str:
        return "DEFAULT_4XX" if self.status < 500 else "DEFAULT_5XX"


# Defaults from "Gateway response types for API Gateway" (developer guide) and what API Gateway
# answers with no customisation.
MISSING_AUTHENTICATION_TOKEN: Final = GatewayError(
    "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
)
UNAUTHORIZED: Final = GatewayError("UNAUTHORIZED", 401, "Unauthorized", "UnauthorizedException")
# A Lambda authorizer's policy that does not allow the method: 403 with a capitalised "Message".
ACCESS_DENIED: Final = GatewayError(
    "ACCESS_DENIED", 403, "User is not authorized to access this resource", "AccessDeniedException", "Message"
)
EXPLICIT_DENY: Final = GatewayError(
    "ACCESS_DENIED",
    403,
    "User is not authorized to access this resource with an explicit deny",
    "AccessDeniedException",
    "Message",
)
# An authorizer that fails (an error other than "Unauthorized", bad output, timeout): 500, null message.
AUTHORIZER_CONFIGURATION_ERROR: Final = GatewayError(
    "AUTHORIZER_CONFIGURATION_ERROR", 500, None, "AuthorizerConfigurationException"
)
# Function errors and malformed proxy responses: 502; Lambda throttling (its 429) and the local
# gateway's own failures: 500.
LAMBDA_ERROR: Final = GatewayError(
    "DEFAULT_5XX", 502, "Internal server error", "InternalServerErrorException"
)
MALFORMED_RESPONSE: Final = LAMBDA_ERROR
INTERNAL_SERVER_ERROR: Final = GatewayError(
    "DEFAULT_5XX", 500, "Internal server error", "InternalServerErrorException"
)
LAMBDA_THROTTLED: Final = INTERNAL_SERVER_ERROR
BASE64_ERROR: Final = GatewayError("API_CONFIGURATION_ERROR", 500, "Internal server error")
INTEGRATION_TIMEOUT: Final = GatewayError("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out")


def gateway_response(
    error: GatewayError,
    responses: Mapping[str, GatewayResponseConfig],
    context: Mapping[str, str],
) -> Response:
    """The response for ``error``, customised by the API's ``GatewayResponses`` (its own type first,
    then ``DEFAULT_4XX``/``DEFAULT_5XX``): status, static headers and the ``application/json`` body
    template, where ``$context.error.messageString`` is the *quoted* message, as in API Gateway."""
    custom = responses.get(error.response_type) or responses.get(error.default_type)
    headers = {"Content-Type": "application/json"}
    if error.error_type:
        headers["x-amzn-ErrorType"] = error.error_type
    body = json.dumps({error.body_key: error.message}).encode()
    status = error.status
    if custom is not None:
        status = custom.status or status
        headers.update(custom.headers)
        template = custom.templates.get("application/json")
        if template is None and custom.templates:
            template = next(iter(custom.templates.values()))
        if template is not None:
            body = _render(template, error, context).encode()
    return Response(status, body, headers)


def _render(template: str, error: GatewayError, context: Mapping[str, str]) -> str:
    """The ``$context`` variables of a gateway response template (others stay as written, as VTL)."""
    values = {
        **context,
        "error.message": error.message or "",
        "error.messageString": json.dumps(error.message),
        "error.responseType": error.response_type,
    }

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))

    return _CONTEXT_VARIABLE.sub(substitute, template)


def preflight_response(cors: CorsConfig, allowed_methods: Sequence[str]) -> Response:
    """The OPTIONS method SAM adds for ``Cors``: a mock integration answering 200 with the
    Access-Control-* headers (``AllowMethods`` defaults to the resource's methods plus OPTIONS)."""
    headers = {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": cors.allow_origin,
        "Access-Control-Allow-Methods": cors.allow_methods or ",".join(allowed_methods),
    }
    if cors.allow_headers:
        headers["Access-Control-Allow-Headers"] = cors.allow_headers
    if cors.max_age:
        headers["Access-Control-Max-Age"] = cors.max_age
    if cors.allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return Response(200, b"", headers)
