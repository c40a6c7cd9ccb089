"""The auth use cases: register, log in, refresh, log out, verify (ARCHITECTURE §5).

Each takes plain values and returns plain values; the stores are ports (:mod:`.ports`), so the rules
here are tested with in-memory stores and run on Redis and MongoDB in the function. Errors are the
API's (:mod:`deltastream.api.errors`): the resolver maps them to statuses.

Security decisions, with their references:

- Login failures answer one message, :data:`BAD_CREDENTIALS`, whether the email is unknown or the
  password wrong, and an unknown email is verified against a dummy hash so both take the same time
  (OWASP Authentication Cheat Sheet, "Authentication and error messages").
- Failed logins are throttled per email and per source IP (:mod:`.ratelimit`).
- A successful login rehashes a password whose hash uses older argon2 parameters.
- Refresh tokens rotate on every use; a rotated token presented again means two parties hold the
  session, so the whole family (the login session) is revoked and both must log in again (OAuth 2.0
  Security BCP, RFC 9700 §4.14.2, "refresh token rotation").
- Logout revokes the refresh token's family and the presented access token (its ``jti``, until it
  would have expired), so a stolen access token stops working at the authorizer too.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from deltastream.api.errors import Conflict, Unauthorized, ValidationFailed
from deltastream.auth.passwords import Passwords, check_password_policy
from deltastream.auth.ports import (
    EmailTaken,
    Live,
    RefreshRecord,
    RefreshStore,
    Reused,
    Revocations,
    User,
    Users,
)
from deltastream.auth.ratelimit import LoginThrottle
from deltastream.auth.tokens import (
    DEFAULT_REFRESH_TTL_S,
    AccessClaims,
    AccessTokens,
    new_refresh_token,
    refresh_token_id,
)
from deltastream.auth.users import InvalidEmail, normalise_email

logger = logging.getLogger(__name__)

BAD_CREDENTIALS: Final = "invalid email or password"
BAD_REFRESH_TOKEN: Final = "invalid or expired refresh token"
REUSED_REFRESH_TOKEN: Final = "refresh token already used; log in again"
REVOKED_TOKEN: Final = "token revoked"


@dataclass(frozen=True, slots=True)
class UserView:
    """What clients see of an account."""

    id: str
    email: str
    name: str

    @classmethod
    def of(cls, user: User | AccessClaims) -> UserView:
        if isinstance(user, AccessClaims):
            return cls(id=user.user_id, email=user.email, name=user.name)
        return cls(id=user.id, email=user.email, name=user.name)


@dataclass(frozen=True, slots=True)
class Session:
    """Tokens of a login: the access JWT (``expires_in`` seconds) and the refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: UserView


@dataclass(frozen=True, slots=True)
class Verified:
    """A valid, unrevoked access token's user and expiry (epoch seconds)."""

    user: UserView
    expires_at: int


class AuthService:
    """The use cases, over their ports (see the module doc)."""

    def __init__(
        self,
        *,
        users: Users,
        passwords: Passwords,
        access_tokens: AccessTokens,
        refresh_tokens: RefreshStore,
        revocations: Revocations,
        throttle: LoginThrottle,
        refresh_ttl_s: int = DEFAULT_REFRESH_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if refresh_ttl_s <= 0:
            raise ValueError(f"the refresh token lifetime must be > 0 s, got {refresh_ttl_s}")
        self._users = users
        self._passwords = passwords
        self._access = access_tokens
        self._refresh = refresh_tokens
        self._revocations = revocations
        self._throttle = throttle
        self._refresh_ttl_s = refresh_ttl_s
        self._clock = clock

    # --- use cases -------------------------------------------------------------------------------

    def register(self, *, email: str, password: str, name: str = "") -> Session:
        """Create an account and log it in. 422 for a bad email or password, 409 for a taken email."""
        try:
            email = normalise_email(email)
        except InvalidEmail as error:
            raise ValidationFailed(f"email: {error}", field="email") from None
        check_password_policy(password, email=email)
        user = User(
            id=uuid.uuid4().hex,
            email=email,
            name=name.strip(),
            password_hash=self._passwords.hash(password),
            created_at=datetime.fromtimestamp(self._clock(), tz=UTC),
        )
        try:
            self._users.add(user)
        except EmailTaken:
            raise Conflict("an account with this email already exists", field="email") from None
        logger.info("account registered", extra={"user_id": user.id})
        return self._start(user, family=None)

    def login(self, *, email: str, password: str, source_ip: str | None = None) -> Session:
        """Check the credentials (throttled); 401 :data:`BAD_CREDENTIALS` for any mismatch."""
        try:
            email = normalise_email(email)
            valid_email = True
        except InvalidEmail:  # cannot have an account: same answer, same work, as a wrong password
            email, valid_email = email.strip().lower(), False
        self._throttle.check(email, source_ip)
        user = self._users.by_email(email) if valid_email else None
        if user is None:
            self._passwords.verify(self._passwords.dummy_hash, password)
            matched = False
        else:
            matched = self._passwords.verify(user.password_hash, password)
        if user is None or not matched:
            self._throttle.record_failure(email, source_ip)
            raise Unauthorized(BAD_CREDENTIALS)
        self._throttle.record_success(email)
        if self._passwords.needs_rehash(user.password_hash):
            self._users.set_password_hash(user.id, self._passwords.hash(password))
            logger.info("password rehashed with current parameters", extra={"user_id": user.id})
        return self._start(user, family=None)

    def refresh(self, refresh_token: str) -> Session:
        """Rotate ``refresh_token``: a new session in the same family; 401 when it is unknown,
        expired, revoked, or was rotated already (which also revokes its family)."""
        consumed = self._refresh.consume(refresh_token_id(refresh_token))
        if isinstance(consumed, Reused):
            self._refresh.revoke_family(consumed.family)
            logger.warning("refresh token reused: session revoked", extra={"family": consumed.family})
            raise Unauthorized(REUSED_REFRESH_TOKEN)
        if not isinstance(consumed, Live) or consumed.record.expires_at <= self._clock():
            raise Unauthorized(BAD_REFRESH_TOKEN)
        record = consumed.record
        user = self._users.by_id(record.user_id)
        if user is None:  # account gone: its sessions go with it
            self._refresh.revoke_family(record.family)
            raise Unauthorized(BAD_REFRESH_TOKEN)
        return self._start(user, family=record.family)

    def logout(self, *, refresh_token: str, access_token: str | None = None) -> None:
        """End the session: revoke the refresh token's family and, when given and valid, the access
        token. Idempotent: an unknown or expired token is nothing left to revoke, not an error."""
        family = self._refresh.family_of(refresh_token_id(refresh_token))
        if family is not None:
            self._refresh.revoke_family(family)
        if access_token:
            try:
                claims = self._access.verify(access_token)
            except Unauthorized:
                return  # expired or not ours: nothing the authorizer would accept anyway
            self._revocations.revoke(claims.jti, claims.remaining_s(self._clock()))

    def verify(self, access_token: str) -> Verified:
        """The user of a valid access token that logout has not revoked; 401 otherwise."""
        claims = self._access.verify(access_token)
        if self._revocations.is_revoked(claims.jti):
            raise Unauthorized(REVOKED_TOKEN)
        return Verified(user=UserView.of(claims), expires_at=claims.expires_at)

    # --- helpers ---------------------------------------------------------------------------------

    def _start(self, user: User, *, family: str | None) -> Session:
        """Issue an access token and a refresh token: a new family (login) or ``family`` (rotation)."""
        access = self._access.issue(user_id=user.id, email=user.email, name=user.name)
        refresh_token = new_refresh_token()
        record = RefreshRecord(
            token_id=refresh_token_id(refresh_token),
            user_id=user.id,
            family=family or uuid.uuid4().hex,
            expires_at=int(self._clock()) + self._refresh_ttl_s,
        )
        if not self._refresh.issue(record, new_family=family is None):
            raise Unauthorized(BAD_REFRESH_TOKEN)  # the family was revoked while we rotated
        return Session(
            access_token=access.token,
            refresh_token=refresh_token,
            expires_in=self._access.ttl_s,
            user=UserView.of(user),
        )
