"""Accounts in MongoDB (:class:`MongoUsers`, collection :data:`USERS`) and email normalisation.

Documents: ``{_id: uuid4 hex, email, name, password_hash, created_at}``. A unique index on ``email``
makes "one account per email" a database guarantee: two concurrent registrations of one address both
pass a "does it exist?" check, but only one insert survives the index (E11000), and the other becomes
a 409. Emails are stored normalised (:func:`normalise_email`), so the index compares like with like.

pymongo and email-validator are imported where used: the auth function's refresh, logout and verify
routes never need them, and its cold start should not pay for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from deltastream.auth.ports import EmailTaken, User

if TYPE_CHECKING:
    from deltastream.adapters.mongo import Collections

USERS: Final = "users"
EMAIL_INDEX: Final = "email_unique"
MAX_EMAIL_LENGTH: Final = 320  # RFC 3696 errata: 64 (local part) + 1 + 255 (domain)
DUPLICATE_KEY: Final = 11000


class InvalidEmail(ValueError):
    """Not an email address; the message says why (from ``email-validator``)."""


def normalise_email(raw: str) -> str:
    """``raw`` stripped, lower-cased and checked for syntax (no DNS lookup: it would slow every
    request and fail offline). Raises :class:`InvalidEmail`.

    Lower-casing the local part is not what RFC 5321 promises, but it is what users expect: no
    provider in practice treats ``Ann@x.com`` and ``ann@x.com`` as two mailboxes, and two accounts
    for them would be a support (and account-takeover) hazard.
    """
    from email_validator import EmailNotValidError, validate_email  # register and login only

    candidate = raw.strip().lower()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"an email address has 1 to {MAX_EMAIL_LENGTH} characters")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    return str(result.normalized).lower()


def _user(document: Mapping[str, Any]) -> User:
    return User(
        id=str(document["_id"]),
        email=str(document["email"]),
        name=str(document.get("name") or ""),
        password_hash=str(document["password_hash"]),
        created_at=document["created_at"],
    )


def _is_duplicate_key(error: Exception) -> bool:
    from pymongo.errors import DuplicateKeyError

    if isinstance(error, DuplicateKeyError):
        return True
    details: Mapping[str, Any] = getattr(error, "details", None) or {}
    return any(e.get("code") == DUPLICATE_KEY for e in details.get("writeErrors", []))


class MongoUsers:
    """:class:`deltastream.auth.ports.Users` on any :class:`Collections` backend.

    Takes the collections, or a function making them (``connect``): :meth:`from_url` connects on
    first use, so the
    routes that never read accounts (verify, logout) do not import pymongo or reach the database. The
    unique index is ensured before the first insert of a process (idempotent, so every cold start may
    do it; registrations before it exists could otherwise duplicate an email).
    """

    def __init__(
        self, collections: Collections | None = None, *, connect: Callable[[], Collections] | None = None
    ) -> None:
        if (collections is None) == (connect is None):
            raise TypeError("MongoUsers needs either collections or connect")
        self._made = collections
        self._make = connect
        self._indexed = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, database: str) -> MongoUsers:
        """Accounts in ``database`` on the backend ``url`` names (see :mod:`deltastream.adapters.mongo`)."""

        def make() -> Collections:
            from deltastream.adapters.mongo import connect

            return connect(url, database)

        return cls(connect=make)

    @property
    def _collections(self) -> Collections:
        if self._made is None:
            with self._lock:
                if self._made is None:
                    assert self._make is not None
                    self._made = self._make()
        return self._made

    def ensure_indexes(self) -> None:
        """Create the unique email index (idempotent)."""
        self._collections.create_index(USERS, [("email", 1)], name=EMAIL_INDEX, unique=True)
        self._indexed = True

    def add(self, user: User) -> None:
        from pymongo import InsertOne
        from pymongo.errors import BulkWriteError, DuplicateKeyError

        if not self._indexed:
            self.ensure_indexes()
        document = {
            "_id": user.id,
            "email": user.email,
            "name": user.name,
            "password_hash": user.password_hash,
            "created_at": user.created_at,
        }
        try:
            self._collections.bulk_write(USERS, [InsertOne(document)])
        except (BulkWriteError, DuplicateKeyError) as error:
            if _is_duplicate_key(error):
                raise EmailTaken(user.email) from None
            raise

    def by_email(self, email: str) -> User | None:
        found = self._collections.find(USERS, {"email": email}, limit=1)
        return _user(found[0]) if found else None

    def by_id(self, user_id: str) -> User | None:
        found = self._collections.find(USERS, {"_id": user_id}, limit=1)
        return _user(found[0]) if found else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        from pymongo import UpdateOne

        self._collections.bulk_write(
            USERS, [UpdateOne({"_id": user_id}, {"$set": {"password_hash": password_hash}})]
        )
