"""Password policy and argon2id hashing."""

from __future__ import annotations

import pytest

from deltastream.api.errors import ValidationFailed
from deltastream.auth.passwords import MAX_LENGTH, Passwords, check_password_policy, password_problems


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "at least 10 characters"),
        ("a1" * 65, f"at most {MAX_LENGTH} characters"),
        ("onlyletters", "one letter and one digit"),
        ("12345678901", "one letter and one digit"),
        ("!!!!!!!!!!!!", "one letter and one digit"),
        ("ada1@example.com", "not be the email"),
    ],
)
def test_a_weak_password_is_refused_with_a_reason(password: str, problem: str) -> None:
    problems = password_problems(password, email="Ada1@Example.com")
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "password", ["abcdefghi1", "correct horse battery 9", "Ünïcødé-pässwörd-42", "a1" * 64]
)
def test_an_acceptable_password_has_no_problems(password: str) -> None:
    assert password_problems(password, email="ada@example.com") == []


def test_the_policy_error_is_a_422_naming_the_password_field() -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_password_policy("short", email="a@b.co")
    assert raised.value.status == 422
    assert raised.value.details == {"field": "password"}
    assert "at least 10 characters" in raised.value.message


def test_a_hash_is_argon2id_salted_and_verifies_only_the_right_password(passwords: Passwords) -> None:
    first, second = passwords.hash("abcdefghi1"), passwords.hash("abcdefghi1")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert passwords.verify(first, "abcdefghi1")
    assert not passwords.verify(first, "abcdefghi2")


def test_a_malformed_hash_is_a_mismatch_not_an_error(passwords: Passwords) -> None:
    assert not passwords.verify("not-a-hash", "abcdefghi1")
    assert passwords.needs_rehash("not-a-hash")


def test_a_hash_with_weaker_parameters_needs_rehash(passwords: Passwords) -> None:
    # GIVEN a hash made with the (cheap) test parameters
    old = passwords.hash("abcdefghi1")
    # THEN the production parameters want it rehashed, the same ones do not
    assert Passwords().needs_rehash(old)
    assert not passwords.needs_rehash(old)


def test_the_default_parameters_meet_owasp_minimums() -> None:
    stored = Passwords().hash("abcdefghi1")
    assert "$m=19456,t=2,p=1$" in stored


def test_the_dummy_hash_is_stable_and_matches_nothing_guessable(passwords: Passwords) -> None:
    assert passwords.dummy_hash == passwords.dummy_hash
    assert not passwords.verify(passwords.dummy_hash, "")
