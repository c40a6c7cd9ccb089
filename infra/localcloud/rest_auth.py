"""Lambda authorizers (TOKEN and REQUEST) as API Gateway REST APIs run them.

Order of events for a protected method, as in API Gateway:

1. the identity source (TOKEN: the ``Identity.Header``; REQUEST: every ``Identity.Headers`` /
   ``QueryStrings`` / ``StageVariables`` entry) missing or empty → ``401 Unauthorized`` without
   invoking the authorizer; a TOKEN not matching ``ValidationExpression`` → 401 likewise;
2. a cached output for the same identity source values (kept ``ReauthorizeEvery`` seconds, default
   300, 0 disables) is used without invoking; otherwise the authorizer function is invoked with the
   TOKEN event ``{type, authorizationToken, methodArn}`` or the REQUEST event (the proxy event's
   request fields, no body);
3. the function failing with the message ``Unauthorized`` → 401; failing otherwise, timing out or
   returning something that is not an authorizer output → 500 ``{"message": null}``;
4. the policy is evaluated against the request's ``methodArn`` (a cached policy against each new
   one): a matching Deny → 403 "... with an explicit deny"; no matching Allow → 403; else the
   request proceeds with ``context`` (values as strings) and ``principalId`` in
   ``requestContext.authorizer``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from localcloud.rest_config import AuthorizerConfig
from localcloud.rest_events import (
    ACCESS_DENIED,
    AUTHORIZER_CONFIGURATION_ERROR,
    EXPLICIT_DENY,
    UNAUTHORIZED,
    GatewayError,
    HttpRequest,
)
from localcloud.runtime import Invocation

__all__ = [
    "AuthorizationDenied",
    "AuthorizerCache",
    "AuthorizerOutput",
    "InvalidAuthorizerOutput",
    "LambdaAuthorizer",
    "evaluate_policy",
    "identity_values",
    "parse_output",
    "resource_matches",
]

Decision = Literal["ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY"]
InvokeAuthorizer = Callable[[dict[str, Any]], Invocation | None]  # None: timed out

_INVOKE_ACTIONS: Final = ("execute-api:Invoke",)


class AuthorizationDenied(Exception):
    """The request stops at the authorizer with ``error`` (401, 403 or 500)."""

    def __init__(self, error: GatewayError, reason: str) -> None:
        super().__init__(reason)
        self.error = error


class InvalidAuthorizerOutput(ValueError):
    """The authorizer returned something API Gateway cannot use: 500 AuthorizerConfigurationException."""


@dataclass(frozen=True, slots=True)
class AuthorizerOutput:
    principal_id: str | None
    policy: Mapping[str, Any]  # the policyDocument
    context: dict[str, str]


def identity_values(
    authorizer: AuthorizerConfig, request: HttpRequest, stage_variables: Mapping[str, str]
) -> tuple[str, ...] | None:
    """The identity source values (the cache key); None when one is missing or empty (→ 401)."""
    if authorizer.payload_type == "TOKEN":
        sources: list[str | None] = [request.header(authorizer.header)]
    else:
        query = dict(request.query_parameters())
        sources = [
            *(request.header(name) for name in authorizer.headers),
            *(query.get(name) for name in authorizer.query_strings),
            *(stage_variables.get(name) for name in authorizer.stage_variables),
        ]
    if any(not value for value in sources):
        return None
    return tuple(value for value in sources if value)


def parse_output(payload: Any) -> AuthorizerOutput:
    """An authorizer's output: ``policyDocument`` (required), ``principalId``, ``context`` (flat:
    string, number or boolean values only — an object or array makes the output invalid)."""
    if not isinstance(payload, dict):
        raise InvalidAuthorizerOutput(f"expected an object, got {type(payload).__name__}")
    policy = payload.get("policyDocument")
    if not isinstance(policy, dict) or "Statement" not in policy:
        raise InvalidAuthorizerOutput("policyDocument with a Statement is required")
    context = payload.get("context") or {}
    if not isinstance(context, dict):
        raise InvalidAuthorizerOutput("context must be an object")
    values: dict[str, str] = {}
    for key, value in context.items():
        if isinstance(value, dict | list):
            raise InvalidAuthorizerOutput(f"context.{key}: only strings, numbers and booleans are allowed")
        if value is None:
            continue
        values[str(key)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    principal = payload.get("principalId")
    return AuthorizerOutput(None if principal is None else str(principal), policy, values)


@lru_cache(maxsize=1024)
def _pattern(resource: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resource))


def resource_matches(resource: str, method_arn: str) -> bool:
    """IAM matching of a policy ``Resource`` against a method ARN: ``*`` any characters (``/`` too),
    ``?`` one character, case-sensitive."""
    return _pattern(resource).fullmatch(method_arn) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _action_matches(action: Any) -> bool:
    return any(
        resource_matches(str(pattern), wanted) for pattern in _as_list(action) for wanted in _INVOKE_ACTIONS
    )


def evaluate_policy(policy: Mapping[str, Any], method_arn: str) -> Decision:
    """IAM evaluation for ``execute-api:Invoke`` on ``method_arn``: an explicit Deny wins, then Allow."""
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict):
            raise InvalidAuthorizerOutput("a Statement must be an object")
        if not _action_matches(statement.get("Action")):
            continue
        if not any(resource_matches(str(r), method_arn) for r in _as_list(statement.get("Resource"))):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "EXPLICIT_DENY"
        if effect == "Allow":
            allowed = True
        else:
            raise InvalidAuthorizerOutput(f"Effect must be Allow or Deny, got {effect!r}")
    return "ALLOW" if allowed else "IMPLICIT_DENY"


class AuthorizerCache:
    """Authorizer outputs by identity source values, each kept for the authorizer's TTL."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[float, AuthorizerOutput]] = {}

    def get(self, key: tuple[str, ...]) -> AuthorizerOutput | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], output: AuthorizerOutput, ttl_s: float) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl_s, output)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class LambdaAuthorizer:
    """One authorizer of one API, with its cache; thread-safe."""

    def __init__(
        self, config: AuthorizerConfig, invoke: InvokeAuthorizer, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._invoke = invoke
        self._clock = clock
        self.cache = AuthorizerCache(clock)
        self._expression = re.compile(config.validation_expression) if config.validation_expression else None

    def authorize(
        self,
        request: HttpRequest,
        method_arn: str,
        request_event: Callable[[], dict[str, Any]],
        stage_variables: Mapping[str, str],
    ) -> dict[str, Any]:
        """``requestContext.authorizer`` for an allowed request; raises :class:`AuthorizationDenied`.

        ``request_event`` builds the REQUEST authorizer's event (only called when one is invoked)."""
        identity = identity_values(self.config, request, stage_variables)
        if identity is None:
            raise AuthorizationDenied(UNAUTHORIZED, "identity source missing")
        if self._expression is not None and self._expression.fullmatch(identity[0]) is None:
            raise AuthorizationDenied(UNAUTHORIZED, "token does not match the ValidationExpression")
        caching = self.config.ttl_s > 0 and (self.config.payload_type == "TOKEN" or bool(identity))
        output = self.cache.get(identity) if caching else None
        latency_ms = 0
        if output is None:
            started = time.perf_counter()
            output = self._call(identity, method_arn, request_event)
            latency_ms = round((time.perf_counter() - started) * 1000)
            if caching:
                self.cache.put(identity, output, self.config.ttl_s)
        try:
            decision = evaluate_policy(output.policy, method_arn)
        except InvalidAuthorizerOutput as error:
            raise AuthorizationDenied(AUTHORIZER_CONFIGURATION_ERROR, str(error)) from None
        if decision == "EXPLICIT_DENY":
            raise AuthorizationDenied(EXPLICIT_DENY, f"{method_arn} denied explicitly")
        if decision == "IMPLICIT_DENY":
            raise AuthorizationDenied(ACCESS_DENIED, f"{method_arn} not allowed by the policy")
        context: dict[str, Any] = dict(output.context)
        if output.principal_id is not None:
            context["principalId"] = output.principal_id
        context["integrationLatency"] = latency_ms
        return context

    def _call(
        self, identity: tuple[str, ...], method_arn: str, request_event: Callable[[], dict[str, Any]]
    ) -> AuthorizerOutput:
        if self.config.payload_type == "TOKEN":
            event = {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": method_arn}
        else:
            event = {"type": "REQUEST", "methodArn": method_arn, **request_event()}
        invocation = self._invoke(event)
        if invocation is None:
            raise AuthorizationDenied(AUTHORIZER_CONFIGURATION_ERROR, "authorizer timed out")
        if not invocation.ok:
            error = invocation.error or {}
            # Only the exact message "Unauthorized" means 401; any other failure is a 500.
            if error.get("errorMessage") == "Unauthorized":
                raise AuthorizationDenied(UNAUTHORIZED, "authorizer answered Unauthorized")
            raise AuthorizationDenied(
                AUTHORIZER_CONFIGURATION_ERROR,
                f"authorizer failed: {error.get('errorType')}: {error.get('errorMessage')}",
            )
        try:
            return parse_output(invocation.payload)
        except InvalidAuthorizerOutput as error:
            raise AuthorizationDenied(
                AUTHORIZER_CONFIGURATION_ERROR, f"invalid authorizer output: {error}"
            ) from None
