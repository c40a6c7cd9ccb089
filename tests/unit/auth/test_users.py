"""Email normalisation and the MongoDB user repository (on mongomock)."""

from __future__ import annotations

from datetime import UTC, datetime

import mongomock
import pytest

from deltastream.adapters.mongo import Collections, MongomockCollections
from deltastream.auth.ports import EmailTaken, User
from deltastream.auth.users import EMAIL_INDEX, USERS, InvalidEmail, MongoUsers, normalise_email


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [(" Ada@Example.COM ", "ada@example.com"), ("x.y+tag@sub.example.org", "x.y+tag@sub.example.org")],
)
def test_emails_are_stripped_and_lower_cased(raw: str, normalised: str) -> None:
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "   ", "ada", "ada@", "@x.io", "a..b@x.io", "ada@localhost", "a" * 330 + "@x.io"]
)
def test_a_malformed_email_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(raw)


def user(user_id: str, email: str) -> User:
    return User(
        id=user_id, email=email, name="Ada", password_hash="$argon2id$x", created_at=datetime.now(UTC)
    )


def test_a_user_is_found_by_email_and_id(users: MongoUsers) -> None:
    users.add(user("u1", "ada@x.io"))
    assert users.by_email("ada@x.io") == users.by_id("u1")
    found = users.by_id("u1")
    assert found is not None
    assert found.email == "ada@x.io"
    assert users.by_email("bob@x.io") is None


def test_a_second_account_for_an_email_is_refused_by_the_unique_index(users: MongoUsers) -> None:
    users.add(user("u1", "ada@x.io"))
    with pytest.raises(EmailTaken):
        users.add(user("u2", "ada@x.io"))


def test_the_password_hash_can_be_replaced(users: MongoUsers) -> None:
    users.add(user("u1", "ada@x.io"))
    users.set_password_hash("u1", "$argon2id$new")
    found = users.by_id("u1")
    assert found is not None
    assert found.password_hash == "$argon2id$new"


def test_from_url_connects_on_first_use_and_creates_the_unique_index() -> None:
    made: list[Collections] = []

    def connect() -> Collections:
        made.append(MongomockCollections(mongomock.MongoClient(tz_aware=True)["deltastream"]))
        return made[0]

    users = MongoUsers(connect=connect)
    assert made == []
    users.add(user("u1", "ada@x.io"))
    assert len(made) == 1
    assert made[0].index_information(USERS)[EMAIL_INDEX]["unique"] is True


def test_the_repository_needs_collections_or_a_connect_function() -> None:
    with pytest.raises(TypeError):
        MongoUsers()
