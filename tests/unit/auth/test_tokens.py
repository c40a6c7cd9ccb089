"""Access JWTs: round trip, and every forgery or misuse refused as Unauthorized."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from deltastream.api.errors import Unauthorized
from deltastream.auth.secrets import SigningKey, StaticKey, signing_key
from deltastream.auth.tokens import (
    LEEWAY_S,
    AccessTokens,
    bearer_token,
    new_refresh_token,
    refresh_token_id,
)
from tests.unit.auth.conftest import SECRET, Clock


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def forge(payload: dict[str, Any], key: SigningKey, **header: Any) -> str:
    return jwt.encode(payload, key.secret, algorithm="HS256", headers={"kid": key.kid, **header})


@pytest.fixture
def key() -> SigningKey:
    return signing_key(SECRET, source="test")


@pytest.fixture
def token(access_tokens: AccessTokens) -> str:
    return access_tokens.issue(user_id="u1", email="ada@example.com", name="Ada").token


def test_an_issued_token_verifies_with_the_documented_claims(access_tokens: AccessTokens, token: str) -> None:
    claims = access_tokens.verify(token)
    assert (claims.user_id, claims.email, claims.name) == ("u1", "ada@example.com", "Ada")
    assert claims.expires_at - claims.issued_at == 900
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"] == signing_key(SECRET, source="test").kid
    raw = claims_of(token)
    assert raw["iss"] == "deltastream"
    assert raw["aud"] == "deltastream-api"
    assert raw["typ"] == "access"
    assert set(raw) >= {"sub", "jti", "iat", "nbf", "exp", "email", "name"}


def test_alg_none_is_refused(access_tokens: AccessTokens, token: str) -> None:
    # GIVEN the valid token's claims under a hand-made unsigned header
    header = b64(
        json.dumps({"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(token)["kid"]}).encode()
    )
    unsigned = f"{header}.{token.split('.')[1]}."
    with pytest.raises(Unauthorized):
        access_tokens.verify(unsigned)


def test_another_algorithm_is_refused(access_tokens: AccessTokens, token: str, key: SigningKey) -> None:
    other = jwt.encode(claims_of(token), key.secret * 2, algorithm="HS512", headers={"kid": key.kid})
    with pytest.raises(Unauthorized):
        access_tokens.verify(other)


def test_a_token_signed_with_another_key_is_refused(
    access_tokens: AccessTokens, token: str, key: SigningKey
) -> None:
    wrong = SigningKey(kid=key.kid, secret=b"another-secret-of-enough-length-0123456789")
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(claims_of(token), wrong))


def test_a_tampered_payload_is_refused(access_tokens: AccessTokens, token: str) -> None:
    header, _, signature = token.split(".")
    payload = claims_of(token) | {"sub": "admin"}
    tampered = f"{header}.{b64(json.dumps(payload).encode())}.{signature}"
    with pytest.raises(Unauthorized):
        access_tokens.verify(tampered)


def test_an_expired_token_is_refused_after_the_leeway(
    access_tokens: AccessTokens, token: str, clock: Clock
) -> None:
    clock.advance(900 + LEEWAY_S - 1)
    access_tokens.verify(token)  # within the leeway
    clock.advance(1)
    with pytest.raises(Unauthorized, match="expired"):
        access_tokens.verify(token)


def test_a_token_not_valid_yet_is_refused(access_tokens: AccessTokens, key: SigningKey, token: str) -> None:
    early = claims_of(token) | {"nbf": claims_of(token)["nbf"] + 60}
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(early, key))


def test_a_token_issued_in_the_future_is_refused(
    access_tokens: AccessTokens, key: SigningKey, token: str
) -> None:
    future = claims_of(token) | {"iat": claims_of(token)["iat"] + 60}
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(future, key))


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"typ": "refresh"},
        {"sub": ""},
        {"exp": "soon"},
        {"iat": True},
    ],
)
def test_a_token_for_another_audience_issuer_or_purpose_is_refused(
    access_tokens: AccessTokens, key: SigningKey, token: str, change: dict[str, Any]
) -> None:
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(claims_of(token) | change, key))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "sub", "jti", "typ", "aud", "iss"])
def test_a_token_missing_a_required_claim_is_refused(
    access_tokens: AccessTokens, key: SigningKey, token: str, claim: str
) -> None:
    payload = claims_of(token)
    del payload[claim]
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(payload, key))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000, "eyJhbGciOiJIUzI1NiJ9..."])
def test_garbage_is_refused(access_tokens: AccessTokens, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        access_tokens.verify(garbage)


def test_a_token_of_an_unknown_kid_is_refused(
    access_tokens: AccessTokens, key: SigningKey, token: str
) -> None:
    with pytest.raises(Unauthorized):
        access_tokens.verify(forge(claims_of(token), SigningKey(kid="0" * 16, secret=key.secret)))


def test_a_rotated_secret_is_picked_up_on_an_unknown_kid(clock: Clock) -> None:
    # GIVEN a verifier still holding the old key, and a token signed with the new one
    old, new = signing_key("o" * 40, source="t"), signing_key("n" * 40, source="t")
    current = [old]

    def source(*, refresh: bool = False) -> SigningKey:
        if refresh:
            current[0] = new
        return current[0]

    verifier = AccessTokens(source, clock=clock)
    token = AccessTokens(StaticKey(new), clock=clock).issue(user_id="u", email="e@x.io", name="").token
    # WHEN it verifies the token THEN it re-reads the secret and accepts it
    assert verifier.verify(token).user_id == "u"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        (None, None),
        ("", None),
    ],
)
def test_bearer_token_reads_the_authorization_header(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


def test_refresh_tokens_are_random_and_stored_by_their_hash() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second
    assert len(first) >= 43
    assert refresh_token_id(first) == refresh_token_id(first)
    assert first not in refresh_token_id(first)
    assert len(refresh_token_id(first)) == 64
