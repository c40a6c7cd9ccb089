"""Settings, caller identity and the error mapping shared by the REST functions."""

from __future__ import annotations

import pytest

from deltastream.api.common import ApiSettings, caller_id
from deltastream.config import ConfigError


def test_settings_default_to_the_template_defaults() -> None:
    assert ApiSettings.from_env({}) == ApiSettings("http://localhost:5173", 600)


def test_settings_read_the_environment() -> None:
    env = {"CORS_ALLOW_ORIGIN": "https://app.example.com", "RATE_LIMIT_PER_MINUTE": "30"}
    assert ApiSettings.from_env(env) == ApiSettings("https://app.example.com", 30)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"CORS_ALLOW_ORIGIN": "*"}, "CORS_ALLOW_ORIGIN"),
        ({"RATE_LIMIT_PER_MINUTE": "lots"}, "RATE_LIMIT_PER_MINUTE"),
        ({"RATE_LIMIT_PER_MINUTE": "0"}, "RATE_LIMIT_PER_MINUTE"),
    ],
)
def test_unusable_settings_are_refused_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        ApiSettings.from_env(env)


@pytest.mark.parametrize(
    ("context", "caller"),
    [
        ({"authorizer": {"userId": "u-1", "principalId": "p-1"}}, "u-1"),
        ({"authorizer": {"principalId": "p-1"}}, "p-1"),
        ({"identity": {"sourceIp": "203.0.113.9"}}, "ip:203.0.113.9"),
        ({}, None),
    ],
)
def test_caller_is_the_authorizers_user_else_the_source_ip(
    context: dict[str, object], caller: str | None
) -> None:
    assert caller_id({"requestContext": context}) == caller
