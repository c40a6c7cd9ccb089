"""The auth use cases on in-memory stores: sessions, rotation, reuse detection, logout, throttling."""

from __future__ import annotations

import pytest

from deltastream.api.errors import Conflict, TooManyRequests, Unauthorized, ValidationFailed
from deltastream.auth.memory import MemoryRefreshStore, MemoryRevocations
from deltastream.auth.passwords import Passwords
from deltastream.auth.service import BAD_CREDENTIALS, AuthService
from deltastream.auth.tokens import refresh_token_id
from deltastream.auth.users import MongoUsers
from tests.unit.auth.conftest import Clock

EMAIL, PASSWORD = "ada@example.com", "analytical-engine-1843"


@pytest.fixture
def registered(service: AuthService) -> AuthService:
    service.register(email=EMAIL, password=PASSWORD, name="Ada")
    return service


def test_register_creates_a_normalised_account_and_signs_in(service: AuthService, users: MongoUsers) -> None:
    session = service.register(email="  Ada@Example.COM ", password=PASSWORD, name=" Ada ")
    assert session.user.email == EMAIL
    assert session.user.name == "Ada"
    assert session.expires_in == 900
    assert service.verify(session.access_token).user == session.user
    stored = users.by_email(EMAIL)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_register_twice_is_a_conflict(registered: AuthService) -> None:
    with pytest.raises(Conflict):
        registered.register(email=EMAIL.upper(), password=PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), (EMAIL, "short", "password"), (EMAIL, EMAIL, "password")],
)
def test_register_refuses_bad_input_naming_the_field(
    service: AuthService, email: str, password: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        service.register(email=email, password=password)
    assert raised.value.details["field"] == field


def test_login_with_the_right_password_signs_in(registered: AuthService) -> None:
    session = registered.login(email=" ADA@example.com", password=PASSWORD, source_ip="1.2.3.4")
    assert session.user.email == EMAIL


@pytest.mark.parametrize(
    ("email", "password"), [(EMAIL, "wrong-password-1"), ("nobody@example.com", PASSWORD), ("junk", PASSWORD)]
)
def test_login_failures_all_say_the_same(registered: AuthService, email: str, password: str) -> None:
    with pytest.raises(Unauthorized) as raised:
        registered.login(email=email, password=password)
    assert raised.value.message == BAD_CREDENTIALS


def test_an_unknown_email_still_costs_a_password_verification(
    registered: AuthService, passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = passwords.verify

    def spy(stored_hash: str, password: str) -> bool:
        verified.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", spy)
    with pytest.raises(Unauthorized):
        registered.login(email="nobody@example.com", password=PASSWORD)
    assert verified == [passwords.dummy_hash]


def test_the_sixth_attempt_after_five_failures_is_throttled(registered: AuthService) -> None:
    for _ in range(5):
        with pytest.raises(Unauthorized):
            registered.login(email=EMAIL, password="wrong-password-1", source_ip="1.2.3.4")
    with pytest.raises(TooManyRequests):
        registered.login(email=EMAIL, password=PASSWORD, source_ip="5.6.7.8")  # even the right one


def test_login_rehashes_a_password_hashed_with_old_parameters(
    registered: AuthService, users: MongoUsers, passwords: Passwords
) -> None:
    # GIVEN an account whose hash uses weaker parameters than the service's hasher
    user = users.by_email(EMAIL)
    assert user is not None
    weak = Passwords(time_cost=1, memory_cost_kib=512)
    users.set_password_hash(user.id, weak.hash(PASSWORD))
    # WHEN the user logs in
    registered.login(email=EMAIL, password=PASSWORD)
    # THEN the stored hash uses the current parameters
    rehashed = users.by_id(user.id)
    assert rehashed is not None
    assert not passwords.needs_rehash(rehashed.password_hash)
    assert passwords.verify(rehashed.password_hash, PASSWORD)


def test_refresh_rotates_the_token_in_the_same_family(
    registered: AuthService, refresh_store: MemoryRefreshStore
) -> None:
    first = registered.login(email=EMAIL, password=PASSWORD)
    family = refresh_store.family_of(refresh_token_id(first.refresh_token))
    second = registered.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert refresh_store.family_of(refresh_token_id(second.refresh_token)) == family


def test_reusing_a_rotated_token_revokes_the_whole_family(registered: AuthService) -> None:
    # GIVEN a session refreshed once (an attacker kept the first refresh token)
    stolen = registered.login(email=EMAIL, password=PASSWORD)
    legitimate = registered.refresh(stolen.refresh_token)
    other_login = registered.login(email=EMAIL, password=PASSWORD)
    # WHEN the rotated token is presented again
    with pytest.raises(Unauthorized, match="already used"):
        registered.refresh(stolen.refresh_token)
    # THEN the legitimate holder's current token is dead too; another login's session is not
    with pytest.raises(Unauthorized):
        registered.refresh(legitimate.refresh_token)
    registered.refresh(other_login.refresh_token)


def test_an_expired_or_unknown_refresh_token_is_refused(registered: AuthService, clock: Clock) -> None:
    session = registered.login(email=EMAIL, password=PASSWORD)
    with pytest.raises(Unauthorized):
        registered.refresh("made-up-token")
    clock.advance(3601)
    with pytest.raises(Unauthorized):
        registered.refresh(session.refresh_token)


def test_logout_revokes_the_family_and_the_access_token(
    registered: AuthService, revocations: MemoryRevocations, clock: Clock
) -> None:
    session = registered.login(email=EMAIL, password=PASSWORD)
    rotated = registered.refresh(session.refresh_token)
    registered.logout(refresh_token=rotated.refresh_token, access_token=rotated.access_token)
    with pytest.raises(Unauthorized):
        registered.refresh(rotated.refresh_token)
    with pytest.raises(Unauthorized, match="revoked"):
        registered.verify(rotated.access_token)
    # the revocation lasts as long as the token would have
    clock.advance(900 + 6)
    with pytest.raises(Unauthorized, match="expired"):
        registered.verify(rotated.access_token)


def test_logout_is_idempotent_and_ignores_a_bad_access_token(registered: AuthService) -> None:
    session = registered.login(email=EMAIL, password=PASSWORD)
    registered.logout(refresh_token=session.refresh_token, access_token="garbage")
    registered.logout(refresh_token=session.refresh_token)
    registered.logout(refresh_token="never-issued")
    registered.verify(session.access_token)  # not presented for revocation: still valid until expiry
