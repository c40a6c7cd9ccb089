"""Access tokens (signed JWTs) and refresh tokens (opaque random strings).

Access token — HS256 JWT, short-lived (:data:`DEFAULT_ACCESS_TTL_S`), header ``{"alg": "HS256",
"typ": "JWT", "kid"}``, claims as :mod:`deltastream.api` lists them. Verifying follows the OWASP JWT
Cheat Sheet and RFC 8725 (JWT Best Current Practices):

- the algorithm is pinned (``algorithms=["HS256"]``): ``alg: none`` and algorithm-confusion tokens are
  refused before any signature maths (RFC 8725 §3.1);
- ``iss``, ``aud`` and ``typ`` are checked, so a token minted for another audience or purpose (a
  refresh or reset token, should one ever be a JWT) is not an access token (RFC 8725 §3.11, §3.12);
- ``exp``, ``iat``, ``nbf``, ``sub``, ``jti`` and ``typ`` are required; clock skew is absorbed by a
  leeway of :data:`LEEWAY_S` seconds, no more;
- every failure is the same :class:`~deltastream.api.errors.Unauthorized` (only "expired" is told
  apart: it tells a client to refresh), and the reason goes to the debug log, never to the client.

The time checks use this module's injectable clock rather than PyJWT's (which reads the wall clock
directly), with PyJWT's semantics: expired when ``exp <= now - leeway``; not yet valid when
``nbf > now + leeway``; ``iat`` may not lie in the future either.

Refresh token — 32 random bytes (``secrets.token_urlsafe``), meaningless to anyone but the store.
Only its SHA-256 (:func:`refresh_token_id`) is stored, so a leaked Redis dump holds no usable token;
a fast hash suffices because the token has 256 bits of entropy (nothing to brute-force, unlike a
password). Rotation and reuse detection live in :mod:`.service` (use case) and :mod:`.redis_store`.

Imports PyJWT and the standard library only: the TOKEN authorizer imports this module.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jwt

from deltastream.api.errors import Unauthorized
from deltastream.auth.secrets import KeySource

logger = logging.getLogger(__name__)

ALGORITHM: Final = "HS256"
ISSUER: Final = "deltastream"
AUDIENCE: Final = "deltastream-api"
ACCESS_TYP: Final = "access"
LEEWAY_S: Final = 5
DEFAULT_ACCESS_TTL_S: Final = 900
DEFAULT_REFRESH_TTL_S: Final = 14 * 24 * 60 * 60
MAX_TOKEN_LENGTH: Final = 4096  # ours are ~400 characters; anything longer is not worth parsing
REQUIRED_CLAIMS: Final = ("exp", "iat", "nbf", "sub", "jti", "typ", "iss", "aud")
REFRESH_TOKEN_BYTES: Final = 32

INVALID_TOKEN: Final = "invalid token"
EXPIRED_TOKEN: Final = "token expired"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says: who (``user_id``, ``email``, ``name``), which token
    (``jti``), and when (epoch seconds)."""

    user_id: str
    email: str
    name: str
    jti: str
    issued_at: int
    not_before: int
    expires_at: int

    def remaining_s(self, now: float) -> int:
        """Whole seconds until expiry (≥ 0): the TTL of a revocation entry for this token."""
        return max(0, int(self.expires_at - now) + 1)


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    claims: AccessClaims


class AccessTokens:
    """Issues and verifies access JWTs with the key ``key_source`` gives (see the module doc)."""

    def __init__(
        self,
        key_source: KeySource,
        *,
        ttl_s: int = DEFAULT_ACCESS_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError(f"the access token lifetime must be > 0 s, got {ttl_s}")
        self._key_source = key_source
        self.ttl_s = ttl_s
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def issue(self, *, user_id: str, email: str, name: str) -> IssuedAccessToken:
        """A fresh token for the user, valid from now for :attr:`ttl_s` seconds."""
        now = int(self._clock())
        claims = AccessClaims(
            user_id=user_id,
            email=email,
            name=name,
            jti=uuid.uuid4().hex,
            issued_at=now,
            not_before=now,
            expires_at=now + self.ttl_s,
        )
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": claims.user_id,
            "email": claims.email,
            "name": claims.name,
            "typ": ACCESS_TYP,
            "jti": claims.jti,
            "iat": claims.issued_at,
            "nbf": claims.not_before,
            "exp": claims.expires_at,
        }
        key = self._key_source()
        token = jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})
        return IssuedAccessToken(token=token, claims=claims)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; :class:`Unauthorized` for anything else.

        Does not consult the revocation list (that needs Redis): callers check
        :attr:`AccessClaims.jti` against it.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise _reject("not a token of a plausible length")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise _reject(f"unreadable header: {error}") from None
        if header.get("alg") != ALGORITHM:  # PyJWT refuses it too; say why in the log
            raise _reject(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        key = self._key_source()
        if header.get("kid") != key.kid:
            key = self._key_source(refresh=True)  # the secret may have been rotated since we read it
            if header.get("kid") != key.kid:
                raise _reject(f"unknown kid {header.get('kid')!r}")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    # The time claims are checked below against self._clock (see the module doc).
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise _reject(f"{type(error).__name__}: {error}") from None
        return self._claims(payload)

    def _claims(self, payload: dict[str, Any]) -> AccessClaims:
        if payload.get("typ") != ACCESS_TYP:
            raise _reject(f"typ {payload.get('typ')!r} is not {ACCESS_TYP!r}")
        times = {name: payload.get(name) for name in ("iat", "nbf", "exp")}
        for name, value in times.items():
            if type(value) is not int:  # bool is an int subclass; floats are not what we issue
                raise _reject(f"{name} is not an integer")
        text = {name: payload.get(name) for name in ("sub", "jti", "email", "name")}
        for name, value in text.items():
            if not isinstance(value, str) or (name in ("sub", "jti") and not value):
                raise _reject(f"{name} is not a string")
        now = self._clock()
        exp, nbf, iat = int(payload["exp"]), int(payload["nbf"]), int(payload["iat"])
        if exp <= now - LEEWAY_S:
            raise _reject("expired", message=EXPIRED_TOKEN)
        if nbf > now + LEEWAY_S:
            raise _reject("not valid yet (nbf)")
        if iat > now + LEEWAY_S:
            raise _reject("issued in the future (iat)")
        return AccessClaims(
            user_id=payload["sub"],
            email=payload["email"],
            name=payload["name"],
            jti=payload["jti"],
            issued_at=iat,
            not_before=nbf,
            expires_at=exp,
        )


def _reject(reason: str, *, message: str = INVALID_TOKEN) -> Unauthorized:
    logger.debug("access token refused: %s", reason)
    return Unauthorized(message)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive, RFC 6750
    §2.1), or None when the header is absent or another scheme."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def new_refresh_token() -> str:
    """A new opaque refresh token: 256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_id(token: str) -> str:
    """The id a refresh token is stored under: its SHA-256, hex (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()
