"""Password policy and hashing (argon2id).

Hashing follows the OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory, two
passes and one lane (:data:`MEMORY_COST_KIB`, :data:`TIME_COST`, :data:`PARALLELISM`). That costs
≈ 20-30 ms and 19 MiB per hash on a 512 MB Lambda — expensive enough for an offline attacker, cheap
enough to answer a login quickly. The parameters live in the hash string, so raising them later is
safe: :meth:`Passwords.verify` reports when a stored hash uses older parameters and the login rehashes
it (``check_needs_rehash``).

The policy (:func:`password_problems`) follows NIST SP 800-63B §5.1.1.2 for length — at least
:data:`MIN_LENGTH` characters, up to :data:`MAX_LENGTH` so passphrases fit but a megabyte "password"
cannot tie up the hasher — plus two checks the product asked for: a letter and a digit at least, and
not the account's own email.
"""

from __future__ import annotations

from functools import cached_property
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from deltastream.api.errors import ValidationFailed

MIN_LENGTH: Final = 10
MAX_LENGTH: Final = 128
TIME_COST: Final = 2
MEMORY_COST_KIB: Final = 19 * 1024
PARALLELISM: Final = 1
HASH_LENGTH: Final = 32
SALT_LENGTH: Final = 16


def password_problems(password: str, *, email: str = "") -> list[str]:
    """What is wrong with ``password`` for the account ``email``, as sentences a user can act on
    (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("must contain at least one letter and one digit")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("must not be the email address")
    return problems


def check_password_policy(password: str, *, email: str = "") -> None:
    """Raise :class:`ValidationFailed` (422, field ``password``) unless ``password`` is acceptable."""
    problems = password_problems(password, email=email)
    if problems:
        raise ValidationFailed("password " + "; ".join(problems), field="password")


class Passwords:
    """argon2id hashing with :data:`TIME_COST` / :data:`MEMORY_COST_KIB` / :data:`PARALLELISM` unless
    told otherwise (tests pass cheap parameters)."""

    def __init__(
        self,
        *,
        time_cost: int = TIME_COST,
        memory_cost_kib: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=HASH_LENGTH,
            salt_len=SALT_LENGTH,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        """The PHC string (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash`` (constant-time in the argon2 library). A
        malformed hash counts as a mismatch: it must not turn a login into a 500."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    @cached_property
    def dummy_hash(self) -> str:
        """A hash of nothing anyone knows, verified against when an email has no account, so a login
        for an unknown email costs what a wrong password costs (OWASP Authentication Cheat Sheet:
        no account enumeration through response times)."""
        import secrets

        return self.hash(secrets.token_urlsafe(24))
