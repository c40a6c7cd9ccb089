"""The stores the auth use cases need, as protocols, and the records they hold.

:mod:`.redis_store` implements the token and counter stores on Redis, :mod:`.memory` in memory (unit
tests; a contract test runs both against the same expectations); :mod:`.users` implements
:class:`Users` on MongoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class User:
    """An account. ``email`` is normalised (:func:`deltastream.auth.users.normalise_email`)."""

    id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime


class EmailTaken(Exception):
    """An account with this email exists already (the unique index said so)."""


class Users(Protocol):
    """Accounts by id and by (normalised) email."""

    def add(self, user: User) -> None:
        """Store a new account; :class:`EmailTaken` when the email is in use, even under a race."""
        ...

    def by_email(self, email: str) -> User | None: ...

    def by_id(self, user_id: str) -> User | None: ...

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """A live refresh token: whose, which login session (``family``), until when (epoch seconds)."""

    token_id: str
    user_id: str
    family: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class Live:
    """:meth:`RefreshStore.consume` found the token live; it is now rotated (unusable)."""

    record: RefreshRecord


@dataclass(frozen=True, slots=True)
class Reused:
    """:meth:`RefreshStore.consume` found a token that was rotated before: it is being replayed."""

    family: str


Consumed = Live | Reused | None  # None: never issued, expired, or its family was revoked


class RefreshStore(Protocol):
    """Refresh tokens by id (the SHA-256 of the token), grouped into families (one per login)."""

    def issue(self, record: RefreshRecord, *, new_family: bool) -> bool:
        """Store ``record`` until its ``expires_at``. With ``new_family=False`` (rotation) only while
        its family is still alive: False when it was revoked meanwhile."""
        ...

    def consume(self, token_id: str) -> Consumed:
        """Atomically take a live token out of use (remembering it was rotated, until it would have
        expired) and return it; or report that it was rotated already, or unknown."""
        ...

    def family_of(self, token_id: str) -> str | None:
        """The family of a live or rotated token, without consuming it (logout)."""
        ...

    def revoke_family(self, family: str) -> None:
        """Make every token of ``family`` unusable, including any issued concurrently."""
        ...


class Revocations(Protocol):
    """Access tokens revoked before their expiry, by ``jti``."""

    def revoke(self, jti: str, ttl_s: int) -> None: ...

    def is_revoked(self, jti: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Count:
    """A failure counter: ``value`` failures in the window that ends in ``resets_in_s`` seconds."""

    value: int
    resets_in_s: int


class FailureCounters(Protocol):
    """Fixed-window counters: the window opens at the first failure and lasts ``window_s``."""

    def increment(self, key: str, window_s: int) -> Count: ...

    def peek(self, key: str) -> Count: ...

    def clear(self, key: str) -> None: ...
