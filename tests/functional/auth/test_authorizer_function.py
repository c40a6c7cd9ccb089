"""AuthorizerFunction's real handler: IAM policy shapes, refusals, and its secret from Secrets Manager."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from types import ModuleType

import boto3
import jwt
import pytest

from deltastream.auth.secrets import StaticKey, signing_key
from deltastream.auth.tokens import AccessTokens
from tests.functional.auth.conftest import ACCOUNT, API_ID, REGION, SECRET, authorizer_event, import_handler


def issue(secret: str = SECRET, clock: Callable[[], float] = time.time) -> str:
    tokens = AccessTokens(StaticKey(signing_key(secret, source="test")), clock=clock)
    return tokens.issue(user_id="u1", email="ada@example.com", name="Ada").token


def test_a_valid_token_gets_an_allow_policy_for_every_route_of_the_stage(authorizer_app: ModuleType) -> None:
    answer = authorizer_app.handler(authorizer_event(issue(), "GET/api/data/chain/NIFTY"), None)
    assert answer == {
        "principalId": "u1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev/*/*",
                }
            ],
        },
        "context": {"userId": "u1", "email": "ada@example.com", "name": "Ada"},
    }


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer not.a.jwt",
        f"Bearer {issue('another-secret-that-is-long-enough-1234')}",
        f"Bearer {issue(clock=lambda: time.time() - 3600)}",
    ],
    ids=["empty", "basic", "garbage", "wrong-key", "expired"],
)
def test_anything_but_a_valid_token_is_unauthorized(authorizer_app: ModuleType, authorization: str) -> None:
    event = authorizer_event("x") | {"authorizationToken": authorization}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_app.handler(event, None)


def test_an_alg_none_token_is_unauthorized(authorizer_app: ModuleType) -> None:
    token = issue()
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_app.handler(authorizer_event(f"{header}.{token.split('.')[1]}."), None)


def test_a_malformed_method_arn_is_unauthorized(authorizer_app: ModuleType) -> None:
    event = authorizer_event(issue()) | {"methodArn": "garbage"}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_app.handler(event, None)


@pytest.fixture
def secrets_manager(aws_env: str) -> str:
    arn: str = boto3.client("secretsmanager").create_secret(
        Name=f"deltastream/{uuid.uuid4().hex}/jwt", SecretString=SECRET
    )["ARN"]
    return arn


@pytest.mark.parametrize("function", ["authorizer", "auth"])
def test_the_secret_comes_from_secrets_manager_when_jwt_secret_is_empty(
    auth_env: None,
    restore_logging: None,
    secrets_manager: str,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
) -> None:
    # GIVEN JWT_SECRET empty and JWT_SECRET_ARN naming the secret (the template's AWS setup)
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("JWT_SECRET_ARN", secrets_manager)
    # WHEN the function starts THEN it signs or verifies with that secret
    app = import_handler(function)
    if function == "authorizer":
        assert app.handler(authorizer_event(issue()), None)["principalId"] == "u1"
    else:
        assert app.service.verify(issue()).user.id == "u1"


def test_a_short_secret_stops_the_function_at_startup(
    auth_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", "too-short")
    with pytest.raises(Exception, match="at least 32 bytes"):
        import_handler("authorizer")
