"""AuthFunction's settings: the template's defaults, and unusable values refused naming the variable."""

from __future__ import annotations

import pytest

from deltastream.auth.settings import AuthSettings
from deltastream.auth.tokens import DEFAULT_ACCESS_TTL_S, DEFAULT_REFRESH_TTL_S
from deltastream.config import ConfigError


def test_defaults_and_the_environment() -> None:
    assert AuthSettings.from_env({}) == AuthSettings(
        DEFAULT_ACCESS_TTL_S, DEFAULT_REFRESH_TTL_S, "http://localhost:5173"
    )
    env = {"ACCESS_TOKEN_TTL": "600", "REFRESH_TOKEN_TTL": " 7200 ", "CORS_ALLOW_ORIGIN": "https://d.example"}
    assert AuthSettings.from_env(env) == AuthSettings(600, 7200, "https://d.example")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ACCESS_TOKEN_TTL": "15m"}, "ACCESS_TOKEN_TTL must be a whole number of seconds"),
        ({"REFRESH_TOKEN_TTL": "-1"}, "REFRESH_TOKEN_TTL must be > 0"),
        ({"ACCESS_TOKEN_TTL": "900", "REFRESH_TOKEN_TTL": "900"}, "must be longer than ACCESS_TOKEN_TTL"),
        ({"CORS_ALLOW_ORIGIN": "*"}, "CORS_ALLOW_ORIGIN must name one origin"),
    ],
)
def test_unusable_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AuthSettings.from_env(env)
