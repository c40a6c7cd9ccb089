"""The AuthFunction's own settings (template: ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, CORS_ALLOW_ORIGIN),
read once at cold start like :class:`deltastream.config.Settings`. The signing secret is read by
:mod:`.secrets` (it may need Secrets Manager)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from deltastream.auth.tokens import DEFAULT_ACCESS_TTL_S, DEFAULT_REFRESH_TTL_S
from deltastream.config import ConfigError

DEFAULT_CORS_ALLOW_ORIGIN: Final = "http://localhost:5173"  # the template's default (the web app)


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class AuthSettings:
    access_token_ttl_s: int = DEFAULT_ACCESS_TTL_S
    refresh_token_ttl_s: int = DEFAULT_REFRESH_TTL_S
    cors_allow_origin: str = DEFAULT_CORS_ALLOW_ORIGIN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        access = _seconds(env, "ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TTL_S)
        refresh = _seconds(env, "REFRESH_TOKEN_TTL", DEFAULT_REFRESH_TTL_S)
        if refresh <= access:
            raise ConfigError(
                f"REFRESH_TOKEN_TTL ({refresh}) must be longer than ACCESS_TOKEN_TTL ({access})"
            )
        origin = env.get("CORS_ALLOW_ORIGIN", "").strip() or DEFAULT_CORS_ALLOW_ORIGIN
        return cls(access_token_ttl_s=access, refresh_token_ttl_s=refresh, cors_allow_origin=origin)
