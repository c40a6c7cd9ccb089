"""Lambda authorizers: identity sources, policy evaluation (wildcards, Deny wins), the cache."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.rest_auth import (
    AuthorizationDenied,
    InvalidAuthorizerOutput,
    LambdaAuthorizer,
    evaluate_policy,
    parse_output,
    resource_matches,
)
from localcloud.rest_config import AuthorizerConfig
from localcloud.rest_events import HttpRequest
from localcloud.runtime import Invocation

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/items/42"


def statement(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def output(*statements: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {"principalId": "user-1", "policyDocument": policy(*statements), "context": context}


@pytest.mark.parametrize(
    ("resource", "matches"),
    [
        (ARN, True),
        ("*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*/items/*", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/items/4?", True),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/*", False),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/items", False),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/dev/get/items/42", False),  # case-sensitive
        ("arn:aws:execute-api:*:*:abc123/dev/GET/items/42", True),
    ],
)
def test_resource_wildcards(resource: str, matches: bool) -> None:
    assert resource_matches(resource, ARN) is matches


def test_allow_on_the_method_arn() -> None:
    assert evaluate_policy(policy(statement("Allow", ARN)), ARN) == "ALLOW"


def test_explicit_deny_wins_over_allow() -> None:
    document = policy(
        statement("Allow", "*"), statement("Deny", "arn:aws:execute-api:*:*:abc123/dev/GET/items/*")
    )
    assert evaluate_policy(document, ARN) == "EXPLICIT_DENY"


def test_no_matching_statement_is_an_implicit_deny() -> None:
    assert (
        evaluate_policy(policy(statement("Allow", "arn:aws:execute-api:*:*:other/*")), ARN) == "IMPLICIT_DENY"
    )


def test_statement_as_an_object_and_resource_lists() -> None:
    document = {"Statement": statement("Allow", ["arn:none", ARN])}
    assert evaluate_policy(document, ARN) == "ALLOW"


@pytest.mark.parametrize(
    "action", ["execute-api:Invoke", "execute-api:*", "*", ["s3:GetObject", "execute-api:Invoke"]]
)
def test_actions_that_cover_invoke(action: Any) -> None:
    assert evaluate_policy(policy(statement("Allow", ARN, action)), ARN) == "ALLOW"


def test_other_actions_do_not_allow() -> None:
    assert evaluate_policy(policy(statement("Allow", ARN, "s3:GetObject")), ARN) == "IMPLICIT_DENY"


def test_output_context_values_become_strings() -> None:
    parsed = parse_output(output(statement("Allow", ARN), n=3, ok=True, name="x", gone=None))
    assert parsed.context == {"n": "3", "ok": "true", "name": "x"}
    assert parsed.principal_id == "user-1"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "Allow",
        {"principalId": "x"},
        {"policyDocument": {}},
        output(statement("Allow", ARN), nested={"a": 1}),
    ],
)
def test_invalid_outputs(payload: Any) -> None:
    with pytest.raises(InvalidAuthorizerOutput):
        parse_output(payload)


# --- the authorizer, with a fake function and a manual clock -------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAuthorizerFunction:
    """Answers with ``result`` (a payload, or an error document when ``ok`` is False)."""

    def __init__(self, result: Any, ok: bool = True) -> None:
        self.result = result
        self.ok = ok
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return Invocation(
            request_id="r",
            ok=self.ok,
            payload=self.result if self.ok else None,
            error=None if self.ok else self.result,
            duration_ms=1.0,
            init_duration_ms=None,
            cold_start=False,
        )


def http(headers: dict[str, str], target: str = "/items/42") -> HttpRequest:
    return HttpRequest.parse("GET", target, headers, b"", "127.0.0.1")


TOKEN = AuthorizerConfig("Token", "Fn", validation_expression=r"Bearer \w+", ttl_s=300)


def authorize(
    authorizer: LambdaAuthorizer, headers: dict[str, str], arn: str = ARN, target: str = "/items/42"
) -> dict[str, Any]:
    return authorizer.authorize(http(headers, target), arn, lambda: {"path": "/items/42"}, {})


def test_token_authorizer_allows_with_context() -> None:
    function = FakeAuthorizerFunction(output(statement("Allow", ARN), tier="gold"))
    authorizer = LambdaAuthorizer(TOKEN, function, FakeClock())
    context = authorize(authorizer, {"Authorization": "Bearer abc"})
    assert context["principalId"] == "user-1"
    assert context["tier"] == "gold"
    assert function.events == [{"type": "TOKEN", "authorizationToken": "Bearer abc", "methodArn": ARN}]


@pytest.mark.parametrize("headers", [{}, {"Authorization": ""}, {"Authorization": "Basic abc"}])
def test_missing_or_invalid_token_is_401_without_invoking(headers: dict[str, str]) -> None:
    function = FakeAuthorizerFunction(output(statement("Allow", ARN)))
    authorizer = LambdaAuthorizer(TOKEN, function, FakeClock())
    with pytest.raises(AuthorizationDenied) as denied:
        authorize(authorizer, headers)
    assert denied.value.error.status == 401
    assert function.events == []


def test_deny_is_403() -> None:
    authorizer = LambdaAuthorizer(TOKEN, FakeAuthorizerFunction(output(statement("Deny", ARN))), FakeClock())
    with pytest.raises(AuthorizationDenied) as denied:
        authorize(authorizer, {"Authorization": "Bearer abc"})
    assert denied.value.error.status == 403
    assert denied.value.error.message is not None
    assert "explicit deny" in denied.value.error.message


def test_unauthorized_error_is_401_other_errors_500() -> None:
    unauthorized = FakeAuthorizerFunction(
        {"errorMessage": "Unauthorized", "errorType": "Exception"}, ok=False
    )
    failing = FakeAuthorizerFunction({"errorMessage": "boom", "errorType": "KeyError"}, ok=False)
    for function, status in ((unauthorized, 401), (failing, 500)):
        with pytest.raises(AuthorizationDenied) as denied:
            authorize(LambdaAuthorizer(TOKEN, function, FakeClock()), {"Authorization": "Bearer abc"})
        assert denied.value.error.status == status


def test_invalid_output_and_timeout_are_500() -> None:
    for invoke in (FakeAuthorizerFunction({"no": "policy"}), lambda event: None):
        with pytest.raises(AuthorizationDenied) as denied:
            authorize(LambdaAuthorizer(TOKEN, invoke, FakeClock()), {"Authorization": "Bearer abc"})
        assert denied.value.error.status == 500
        assert denied.value.error.message is None


def test_cached_policy_is_used_until_the_ttl_and_evaluated_per_method_arn() -> None:
    # GIVEN an authorizer allowing GET /items/* only, cached 300 s
    function = FakeAuthorizerFunction(
        output(statement("Allow", "arn:aws:execute-api:*:*:abc123/dev/GET/items/*"))
    )
    clock = FakeClock()
    authorizer = LambdaAuthorizer(TOKEN, function, clock)
    # WHEN the same token comes three times within the TTL
    authorize(authorizer, {"Authorization": "Bearer abc"})
    clock.now += 299
    second = authorize(authorizer, {"Authorization": "Bearer abc"})
    # THEN the function ran once, and the cached answer reports no latency
    assert len(function.events) == 1
    assert second["integrationLatency"] == 0
    # WHEN the cached policy meets a method it does not cover
    with pytest.raises(AuthorizationDenied) as denied:
        authorize(
            authorizer, {"Authorization": "Bearer abc"}, arn=ARN.replace("/GET/items/42", "/POST/orders")
        )
    # THEN it is denied without invoking again
    assert denied.value.error.status == 403
    assert len(function.events) == 1
    # WHEN the TTL passes, or another token comes
    clock.now += 2
    authorize(authorizer, {"Authorization": "Bearer abc"})
    authorize(authorizer, {"Authorization": "Bearer xyz"})
    # THEN the function runs again for each
    assert len(function.events) == 3


def test_ttl_zero_disables_the_cache() -> None:
    function = FakeAuthorizerFunction(output(statement("Allow", ARN)))
    authorizer = LambdaAuthorizer(AuthorizerConfig("T", "Fn", ttl_s=0), function, FakeClock())
    for _ in range(3):
        authorize(authorizer, {"Authorization": "t"})
    assert len(function.events) == 3


def test_errors_are_not_cached() -> None:
    function = FakeAuthorizerFunction({"errorMessage": "Unauthorized", "errorType": "Exception"}, ok=False)
    authorizer = LambdaAuthorizer(TOKEN, function, FakeClock())
    for _ in range(2):
        with pytest.raises(AuthorizationDenied):
            authorize(authorizer, {"Authorization": "Bearer abc"})
    assert len(function.events) == 2


REQUEST = AuthorizerConfig(
    "Req", "Fn", payload_type="REQUEST", headers=("X-Api-Key",), query_strings=("tenant",)
)


def test_request_authorizer_needs_every_identity_source() -> None:
    function = FakeAuthorizerFunction(output(statement("Allow", ARN)))
    authorizer = LambdaAuthorizer(REQUEST, function, FakeClock())
    with pytest.raises(AuthorizationDenied) as denied:
        authorize(authorizer, {"x-api-key": "k"})  # no ?tenant=
    assert denied.value.error.status == 401
    context = authorize(authorizer, {"x-api-key": "k"}, target="/items/42?tenant=t1")
    assert context["principalId"] == "user-1"
    assert function.events == [{"type": "REQUEST", "methodArn": ARN, "path": "/items/42"}]
    # cached by the identity source values
    authorize(authorizer, {"x-api-key": "k"}, target="/items/42?tenant=t1")
    authorize(authorizer, {"x-api-key": "k"}, target="/items/42?tenant=t2")
    assert len(function.events) == 2


def test_request_authorizer_without_identity_sources_runs_every_time() -> None:
    function = FakeAuthorizerFunction(output(statement("Allow", ARN)))
    authorizer = LambdaAuthorizer(AuthorizerConfig("R", "Fn", payload_type="REQUEST"), function, FakeClock())
    authorize(authorizer, {})
    authorize(authorizer, {})
    assert len(function.events) == 2
