"""Where the signing secret comes from, and what is refused at start-up."""

from __future__ import annotations

import pytest

from deltastream.auth.secrets import FetchedKey, SecretError, key_source_from_env, signing_key
from tests.unit.auth.conftest import Clock


class FakeSecretsManager:
    """A fetch function counting its reads; its value can change (a rotation)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads: list[tuple[str, bool]] = []

    def __call__(self, arn: str, *, force: bool = False) -> str:
        self.reads.append((arn, force))
        return self.value


def test_a_short_secret_is_refused_naming_its_variable() -> None:
    with pytest.raises(SecretError, match=r"JWT_SECRET: .*at least 32 bytes \(got 5\)"):
        key_source_from_env({"JWT_SECRET": "short"})


def test_no_secret_at_all_is_a_startup_error() -> None:
    with pytest.raises(SecretError, match="JWT_SECRET_ARN"):
        key_source_from_env({"JWT_SECRET": "", "JWT_SECRET_ARN": ""})


def test_jwt_secret_wins_over_the_arn() -> None:
    fetch = FakeSecretsManager("f" * 40)
    source = key_source_from_env({"JWT_SECRET": "e" * 40, "JWT_SECRET_ARN": "arn:x"}, fetch=fetch)
    assert source().secret == b"e" * 40
    assert fetch.reads == []


def test_the_arn_secret_is_read_at_startup_and_checked() -> None:
    with pytest.raises(SecretError, match=r"JWT_SECRET_ARN \(arn:x\)"):
        key_source_from_env({"JWT_SECRET_ARN": "arn:x"}, fetch=FakeSecretsManager("tiny"))


def test_a_fetch_failure_is_a_clear_secret_error() -> None:
    def failing(arn: str, *, force: bool = False) -> str:
        raise RuntimeError("AccessDenied")

    with pytest.raises(SecretError, match="cannot read secret 'arn:x': AccessDenied"):
        key_source_from_env({"JWT_SECRET_ARN": "arn:x"}, fetch=failing)


def test_a_fetched_secret_is_cached_for_its_max_age(clock: Clock) -> None:
    fetch = FakeSecretsManager("a" * 40)
    source = FetchedKey("arn:x", fetch, max_age_s=300, clock=clock)
    first = source()
    clock.advance(299)
    fetch.value = "b" * 40
    assert source() == first
    clock.advance(1)
    assert source().secret == b"b" * 40
    assert fetch.reads == [("arn:x", False), ("arn:x", False)]


def test_refresh_rereads_at_most_once_a_second(clock: Clock) -> None:
    fetch = FakeSecretsManager("a" * 40)
    source = FetchedKey("arn:x", fetch, clock=clock)
    source()
    source(refresh=True)  # same instant: served from the cache
    clock.advance(1)
    source(refresh=True)
    assert fetch.reads == [("arn:x", False), ("arn:x", True)]


def test_the_kid_fingerprints_the_secret_without_revealing_it() -> None:
    key = signing_key("s" * 40, source="t")
    assert key.kid == signing_key("s" * 40, source="t").kid != signing_key("t" * 40, source="t").kid
    assert len(key.kid) == 16
    assert "sss" not in repr(key)
