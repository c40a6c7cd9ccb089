"""The local REST gateway: API Gateway (REST v1) with Lambda proxy integrations, Lambda authorizers
and CORS, for every ``AWS::Serverless::Api`` of the template (and SAM's implicit ``ServerlessRestApi``).

:meth:`RestGateway.handle_request` is socket-free (tests call it directly); the local cloud's HTTP
server mounts it for every path outside ``/_local/``. A request goes through the steps API Gateway
takes: resource and method selection (:mod:`localcloud.rest_routes`), CORS preflight, the Lambda
authorizer (:mod:`localcloud.rest_auth`), the proxy event (:mod:`localcloud.rest_events`), the
function (through its thread-safe :class:`~localcloud.runtime.FunctionRuntime`), the response mapping.

**Stage prefix.** API Gateway serves ``https://<api>.execute-api.<region>.amazonaws.com/<stage>/...``.
Locally every API is served both as ``http://127.0.0.1:3000/<stage>/...`` and, for convenience, as
``http://127.0.0.1:3000/...``: a path whose first segment is an API's stage name is matched without
it first, then as is. The event is the same either way (``path`` without the stage,
``requestContext.path`` with it). When several APIs are served, their resources share the port; the
first API (in template order) with a matching resource wins.

**Timeouts.** API Gateway gives an integration 29 s and then answers ``504 {"message": "Endpoint
request timed out"}`` while the function runs on; ``integration_timeout_s`` sets that limit here.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from localcloud.model import AppModel
from localcloud.rest_auth import AuthorizationDenied, LambdaAuthorizer
from localcloud.rest_config import RestApiConfig, rest_apis
from localcloud.rest_events import (
    AUTHORIZER_CONFIGURATION_ERROR,
    BASE64_ERROR,
    INTEGRATION_TIMEOUT,
    INTERNAL_SERVER_ERROR,
    LAMBDA_ERROR,
    LAMBDA_THROTTLED,
    MALFORMED_RESPONSE,
    MISSING_AUTHENTICATION_TOKEN,
    Base64BodyError,
    GatewayError,
    HttpRequest,
    MalformedProxyResponse,
    RequestScope,
    gateway_response,
    integration_response,
    preflight_response,
    proxy_event,
    stage_path,
)
from localcloud.rest_routes import ResourceMatch, RouteTable, split_path
from localcloud.runtime import Invocation, ThrottledError, percentile
from localcloud.server import Headers, Response

__all__ = ["DEFAULT_INTEGRATION_TIMEOUT_S", "Invokable", "RestGateway"]

log = logging.getLogger("localcloud.rest")

DEFAULT_INTEGRATION_TIMEOUT_S: Final = 29.0  # API Gateway's maximum integration timeout (REST)
LATENCIES_KEPT: Final = 10_000


class Invokable(Protocol):
    """What the gateway needs of a function: :class:`~localcloud.runtime.FunctionRuntime` fits."""

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation: ...


@dataclass(frozen=True, slots=True)
class _Api:
    config: RestApiConfig
    routes: RouteTable
    authorizers: dict[str, LambdaAuthorizer]


class _Metrics:
    """Requests, 4xx/5xx counts and latencies (the whole request, function included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=LATENCIES_KEPT)
        self._requests = self._errors_4xx = self._errors_5xx = 0

    def record(self, status: int, latency_ms: float) -> None:
        with self._lock:
            self._requests += 1
            self._errors_4xx += 400 <= status < 500
            self._errors_5xx += status >= 500
            self._latencies.append(latency_ms)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            latencies = list(self._latencies)
            counts = {
                "requests": self._requests,
                "errors_4xx": self._errors_4xx,
                "errors_5xx": self._errors_5xx,
            }
        return {
            **counts,
            "latency_ms": {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)},
        }


class RestGateway:
    """Serves REST APIs; thread-safe (one instance behind the threaded HTTP server)."""

    def __init__(
        self,
        apis: Sequence[RestApiConfig],
        functions: Mapping[str, Invokable],
        *,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        integration_timeout_s: float = DEFAULT_INTEGRATION_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.integration_timeout_s = integration_timeout_s
        self._functions = functions
        self._now = now
        self._metrics = _Metrics()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._apis = [self._api(config, clock) for config in apis]

    @classmethod
    def from_model(cls, model: AppModel, functions: Mapping[str, Invokable], **options: Any) -> RestGateway:
        return cls(rest_apis(model), functions, account_id=model.account_id, region=model.region, **options)

    def _api(self, config: RestApiConfig, clock: Callable[[], float]) -> _Api:
        table = RouteTable(config.routes)
        for conflict in table.conflicts:
            log.warning("%s: duplicate method %s; the first is served", config.logical_id, conflict)
        authorizers = {
            name: LambdaAuthorizer(authorizer, functools.partial(self._invoke, authorizer.function_id), clock)
            for name, authorizer in config.authorizers.items()
        }
        return _Api(config, table, authorizers)

    @property
    def apis(self) -> list[RestApiConfig]:
        return [api.config for api in self._apis]

    # --- requests -------------------------------------------------------------------------------------

    def handle_request(
        self, method: str, path: str, headers: Headers, body: bytes, source_ip: str = "127.0.0.1"
    ) -> Response:
        """One HTTP request (``path`` may carry a query string) → the response API Gateway would give."""
        started = time.perf_counter()
        request = HttpRequest.parse(method, path, headers, body, source_ip)
        request_id = str(uuid.uuid4())
        try:
            response = self._handle(request, request_id)
        except Exception:  # the gateway must not take the server thread down
            log.exception("%s %s failed", request.method, path)
            response = gateway_response(INTERNAL_SERVER_ERROR, {}, {})
        response.headers.setdefault("x-amzn-RequestId", request_id)
        response.headers.setdefault("x-amz-apigw-id", request_id.replace("-", "")[:16])
        latency_ms = (time.perf_counter() - started) * 1000
        self._metrics.record(response.status, latency_ms)
        log.info('%s "%s %s" %d %.0f ms', source_ip, request.method, path, response.status, latency_ms)
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> Response:
        found = self._find(request.path)
        if found is None:
            return self._error(
                MISSING_AUTHENTICATION_TOKEN, self._apis[0] if len(self._apis) == 1 else None, {}
            )
        api, match, path = found
        scope = RequestScope(
            api=api.config,
            account_id=self.account_id,
            region=self.region,
            resource=match.resource,
            path=path,
            path_parameters=match.path_parameters,
            request_id=request_id,
            received=self._now(),
        )
        context = {
            "requestId": request_id,
            "stage": api.config.stage,
            "apiId": api.config.api_id,
            "httpMethod": request.method,
            "resourcePath": match.resource,
            "path": f"/{api.config.stage}{path}",
        }
        route = match.route(request.method)
        if route is None:
            if request.method == "OPTIONS" and api.config.cors is not None:
                return self._preflight(api, request, scope, match, context)
            return self._error(MISSING_AUTHENTICATION_TOKEN, api, context)
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer is not None:
            try:
                authorizer_context = self._authorize(api, route.authorizer, request, scope)
            except AuthorizationDenied as denied:
                log.info("%s %s: %s", request.method, request.path, denied)
                return self._error(denied.error, api, context)
        event = proxy_event(request, scope, authorizer_context)
        return self._integrate(api, route.function_id, event, request_id, context)

    def _find(self, raw_path: str) -> tuple[_Api, ResourceMatch, str] | None:
        """The API and resource for a path, the stage-prefixed form first (see the module doc)."""
        segments = split_path(raw_path)
        for api in self._apis:
            if segments and segments[0] == api.config.stage:
                stripped = raw_path.split("/", 2)[2] if raw_path.count("/") >= 2 else ""
                match = api.routes.match(stripped)
                if match is not None:
                    return api, match, stage_path("/" + stripped)
        for api in self._apis:
            match = api.routes.match(raw_path)
            if match is not None:
                return api, match, stage_path(raw_path)
        return None

    def _preflight(
        self,
        api: _Api,
        request: HttpRequest,
        scope: RequestScope,
        match: ResourceMatch,
        context: Mapping[str, str],
    ) -> Response:
        """SAM's generated OPTIONS method (a mock integration), behind the default authorizer only when
        ``AddDefaultAuthorizerToCorsPreflight`` is true (SAM's default)."""
        assert api.config.cors is not None
        if api.config.preflight_authorizer is not None:
            try:
                self._authorize(api, api.config.preflight_authorizer, request, scope)
            except AuthorizationDenied as denied:
                return self._error(denied.error, api, context)
        return preflight_response(api.config.cors, match.allowed_methods())

    def _authorize(self, api: _Api, name: str, request: HttpRequest, scope: RequestScope) -> dict[str, Any]:
        authorizer = api.authorizers.get(name)
        if authorizer is None:
            raise AuthorizationDenied(AUTHORIZER_CONFIGURATION_ERROR, f"authorizer {name} is not emulated")

        def request_event() -> dict[str, Any]:
            event = proxy_event(request, scope, None)
            del event["body"], event["isBase64Encoded"]
            return event

        return authorizer.authorize(
            request, scope.method_arn(request.method), request_event, api.config.stage_variables
        )

    def _integrate(
        self, api: _Api, function_id: str, event: dict[str, Any], request_id: str, context: Mapping[str, str]
    ) -> Response:
        try:
            invocation = self._invoke(function_id, event, request_id)
        except ThrottledError:
            return self._error(LAMBDA_THROTTLED, api, context)  # Lambda's 429 becomes a 500
        if invocation is None:
            return self._error(INTEGRATION_TIMEOUT, api, context)
        if not invocation.ok:
            error = invocation.error or {}
            log.info("%s failed: %s: %s", function_id, error.get("errorType"), error.get("errorMessage"))
            return self._error(LAMBDA_ERROR, api, context)
        try:
            return integration_response(invocation.payload)
        except MalformedProxyResponse as malformed:
            log.warning(
                "%s: Execution failed due to configuration error: Malformed Lambda proxy response (%s)",
                function_id,
                malformed,
            )
            return self._error(MALFORMED_RESPONSE, api, context)
        except Base64BodyError:
            log.warning("%s: isBase64Encoded is true but the body is not base64", function_id)
            return self._error(BASE64_ERROR, api, context)

    def _invoke(
        self, function_id: str, event: dict[str, Any], request_id: str | None = None
    ) -> Invocation | None:
        """Invokes through the function's runtime; None when ``integration_timeout_s`` passes first
        (the invocation goes on in the background, as Lambda's does after API Gateway gives up)."""
        function = self._functions[function_id]
        future: Future[Invocation] = self._pool().submit(function.invoke, event, request_id=request_id)
        try:
            return future.result(timeout=self.integration_timeout_s)
        except FutureTimeout:
            log.warning(
                "%s: Execution failed due to a timeout error (%.1f s)",
                function_id,
                self.integration_timeout_s,
            )
            return None

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=256, thread_name_prefix="localcloud-rest")
            return self._executor

    def _error(self, error: GatewayError, api: _Api | None, context: Mapping[str, str]) -> Response:
        return gateway_response(error, api.config.gateway_responses if api else {}, context)

    # --- the local cloud's view -----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """For ``/_local/status``: counters, latency percentiles, authorizer cache sizes."""
        return {
            **self._metrics.snapshot(),
            "apis": {
                api.config.logical_id: {
                    "api_id": api.config.api_id,
                    "stage": api.config.stage,
                    "routes": len(api.config.routes),
                    "authorizer_cache": {name: len(a.cache) for name, a in api.authorizers.items()},
                }
                for api in self._apis
            },
        }

    def banner_lines(self, port: int) -> list[str]:
        return [
            f"  REST API        http://127.0.0.1:{port}/  (stage {api.config.stage}; also under "
            f"/{api.config.stage}/, {api.config.logical_id}, {len(api.config.routes)} route(s))"
            for api in self._apis
        ]

    def close(self) -> None:
        """Stops taking invocations; running ones finish on their own (their runtimes time them out)."""
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
