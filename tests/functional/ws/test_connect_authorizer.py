"""AuthorizerFunction as the WebSocket API's REQUEST authorizer on ``$connect`` (token in ``?token=``)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.functional.auth.conftest import ACCOUNT, API_ID, REGION
from tests.functional.auth.test_authorizer_function import issue


def request_event(query: dict[str, str] | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A REQUEST authorizer event as API Gateway sends it for a WebSocket ``$connect``."""
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev/$connect",
        "headers": {"Host": f"{API_ID}.execute-api.{REGION}.amazonaws.com", **(headers or {})},
        "queryStringParameters": query,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "dev", "apiId": API_ID},
    }


def test_a_valid_query_token_is_allowed_on_every_route_of_the_stage(authorizer_app: ModuleType) -> None:
    answer = authorizer_app.handler(request_event({"token": issue()}), None)
    assert answer["principalId"] == "u1"
    assert answer["context"] == {"userId": "u1", "email": "ada@example.com", "name": "Ada"}
    [statement] = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev/*",
    }


def test_a_bearer_header_is_accepted_when_there_is_no_query_token(authorizer_app: ModuleType) -> None:
    answer = authorizer_app.handler(request_event(None, {"authorization": f"Bearer {issue()}"}), None)
    assert answer["principalId"] == "u1"


@pytest.mark.parametrize(
    "query", [None, {}, {"token": ""}, {"token": "not.a.jwt"}], ids=["none", "empty", "blank", "garbage"]
)
def test_a_missing_or_invalid_query_token_is_unauthorized(
    authorizer_app: ModuleType, query: dict[str, str] | None
) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_app.handler(request_event(query), None)


def test_a_token_event_keeps_the_rest_policy(authorizer_app: ModuleType) -> None:
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {issue()}",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev/GET/api/data/products",
    }
    [statement] = authorizer_app.handler(event, None)["policyDocument"]["Statement"]
    assert statement["Resource"].endswith("/dev/*/*")
