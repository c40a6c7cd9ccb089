"""The AuthFunction's own settings (template: ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, CORS_ALLOW_ORIGIN),
read once at cold start like :class:`deltastream.config.Settings`. The signing secret is read by
:mod:`.secrets` (it may need Secrets Manager)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from deltastream.auth.tokens import DEFAULT_ACCESS_TTL_S, DEFAULT_REFRESH_TTL_S
from deltastream.config import DEFAULT_CORS_ALLOW_ORIGIN, ConfigError, cors_allow_origin, positive_int


@dataclass(frozen=True, slots=True)
class AuthSettings:
    access_token_ttl_s: int = DEFAULT_ACCESS_TTL_S
    refresh_token_ttl_s: int = DEFAULT_REFRESH_TTL_S
    cors_allow_origin: str = DEFAULT_CORS_ALLOW_ORIGIN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        access = positive_int(env, "ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TTL_S, unit="seconds")
        refresh = positive_int(env, "REFRESH_TOKEN_TTL", DEFAULT_REFRESH_TTL_S, unit="seconds")
        if refresh <= access:
            raise ConfigError(
                f"REFRESH_TOKEN_TTL ({refresh}) must be longer than ACCESS_TOKEN_TTL ({access})"
            )
        return cls(
            access_token_ttl_s=access, refresh_token_ttl_s=refresh, cors_allow_origin=cors_allow_origin(env)
        )
