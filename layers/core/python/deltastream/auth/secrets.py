"""The HS256 signing secret of access tokens: from ``JWT_SECRET``, else from Secrets Manager.

- ``JWT_SECRET`` non-empty wins (local runs, tests, a stack deployed with the parameter set).
- Otherwise ``JWT_SECRET_ARN`` names a Secrets Manager secret (the template's ``JwtSecretStore``),
  fetched at cold start and re-read at most every :data:`SECRET_MAX_AGE_S` seconds, so a rotated
  secret reaches warm sandboxes within minutes. ``AWS_ENDPOINT_URL`` points the SDK at moto locally.

A secret shorter than :data:`MIN_SECRET_BYTES` is refused at start-up: HS256 is only as strong as its
key, and RFC 7518 §3.2 requires a key at least as long as the hash output (256 bits). Brute-forcing
a short HMAC key offline from one captured token is practical (OWASP JWT Cheat Sheet).

Each key carries a ``kid`` — a fingerprint of the secret (not the secret) — written into every token
header, so a token signed with a previous secret is told apart from a forged one in the logs, and a
verifier seeing an unknown ``kid`` knows to re-read the secret once.

Stdlib only at import time: the TOKEN authorizer imports this module (boto3 and Powertools are
imported lazily, only when a secret must be fetched).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from deltastream.config import ConfigError

MIN_SECRET_BYTES: Final = 32
SECRET_MAX_AGE_S: Final = 300
KID_LENGTH: Final = 16  # hex characters of the SHA-256 fingerprint: 64 bits, ample to tell keys apart


class SecretError(ConfigError):
    """The signing secret is missing, unreadable or too short; the message says which variable."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An HS256 key and its ``kid``. ``repr`` leaves the secret out, so a log line cannot leak it."""

    kid: str
    secret: bytes = field(repr=False)


def signing_key(secret: str | bytes, *, source: str) -> SigningKey:
    """A :class:`SigningKey` for ``secret``; raises :class:`SecretError` naming ``source`` when the
    secret is shorter than :data:`MIN_SECRET_BYTES` bytes (UTF-8)."""
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_SECRET_BYTES:
        raise SecretError(
            f"{source}: the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes "
            f"(got {len(raw)}); generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    kid = hashlib.sha256(b"deltastream-kid:" + raw).hexdigest()[:KID_LENGTH]
    return SigningKey(kid=kid, secret=raw)


class KeySource(Protocol):
    """The current signing key; ``refresh=True`` re-reads it (a token named an unknown ``kid``)."""

    def __call__(self, *, refresh: bool = False) -> SigningKey: ...


class Fetch(Protocol):
    """Reads the secret ``arn``; ``force`` bypasses any cache."""

    def __call__(self, arn: str, *, force: bool = False) -> str | bytes: ...


class StaticKey:
    """A :class:`KeySource` of one key (``JWT_SECRET``, tests)."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key

    def __call__(self, *, refresh: bool = False) -> SigningKey:
        return self._key


class FetchedKey:
    """A :class:`KeySource` reading a secret through ``fetch(arn)``, cached for ``max_age_s``.

    Reads at most once per ``max_age_s`` (and at most once a second on ``refresh``, so tokens with a
    made-up ``kid`` cannot turn into a flood of Secrets Manager calls).
    """

    MIN_REFRESH_INTERVAL_S: Final = 1.0

    def __init__(
        self,
        arn: str,
        fetch: Fetch,
        *,
        max_age_s: float = SECRET_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._arn = arn
        self._fetch = fetch
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._key: SigningKey | None = None
        self._fetched_at = 0.0

    def __call__(self, *, refresh: bool = False) -> SigningKey:
        with self._lock:
            now = self._clock()
            age = now - self._fetched_at
            stale = self._key is None or age >= self._max_age_s
            if stale or (refresh and age >= self.MIN_REFRESH_INTERVAL_S):
                self._key = signing_key(self._read(force=not stale), source=f"JWT_SECRET_ARN ({self._arn})")
                self._fetched_at = now
            assert self._key is not None
            return self._key

    def _read(self, *, force: bool) -> str | bytes:
        try:
            return self._fetch(self._arn, force=force)
        except SecretError:
            raise
        except Exception as error:  # any SDK error: say what failed without the SDK's stack
            raise SecretError(f"JWT_SECRET_ARN: cannot read secret {self._arn!r}: {error}") from error


def powertools_fetch(arn: str, *, force: bool = False) -> str | bytes:
    """Read ``arn`` with Powertools' parameters utility (its own cache honours ``max_age``)."""
    from aws_lambda_powertools.utilities import parameters

    value: Any = parameters.get_secret(arn, max_age=SECRET_MAX_AGE_S, force_fetch=force)
    if not isinstance(value, str | bytes):
        raise SecretError(f"JWT_SECRET_ARN: secret {arn!r} is not a string")
    return value


def boto3_fetch(arn: str, *, force: bool = False) -> str | bytes:
    """Read ``arn`` with a bare boto3 client (the authorizer: no Powertools import on its cold path)."""
    import boto3

    answer: dict[str, Any] = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    value = answer.get("SecretString") or answer.get("SecretBinary")
    if not isinstance(value, str | bytes):
        raise SecretError(f"JWT_SECRET_ARN: secret {arn!r} holds no value")
    return value


def key_source_from_env(env: Mapping[str, str], *, fetch: Fetch = powertools_fetch) -> KeySource:
    """The :class:`KeySource` the environment configures, checked now (a start-up error, not a 500 on
    the first request): ``JWT_SECRET`` if non-empty, else the secret ``JWT_SECRET_ARN`` names."""
    secret = env.get("JWT_SECRET", "")
    if secret:
        return StaticKey(signing_key(secret, source="JWT_SECRET"))
    arn = env.get("JWT_SECRET_ARN", "")
    if not arn:
        raise SecretError("set JWT_SECRET (≥ 32 bytes) or JWT_SECRET_ARN (a Secrets Manager secret)")
    source = FetchedKey(arn, fetch)
    source()
    return source
