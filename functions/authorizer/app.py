"""AuthorizerFunction: the REST API's TOKEN authorizer for every protected route, and the WebSocket
API's REQUEST authorizer on ``$connect`` (browsers cannot set headers on a WebSocket, so the token
comes in the query string: ``wss://HOST/STAGE?token=<JWT>``).

A valid, unrevoked access token gets an IAM policy allowing ``execute-api:Invoke`` on every route of
the API's stage (``arn:…:{apiId}/{stage}/*/*``): API Gateway caches the answer per token for
``ReauthorizeEvery`` seconds, and a policy naming only the first route called would deny the next
route from the cache (a REQUEST event's policy covers ``…:{apiId}/{stage}/*``: a WebSocket route ARN,
``…/{stage}/$connect``, has no verb segment for ``*/*`` to match). The context
``{"userId", "email", "name"}`` reaches the functions as ``requestContext.authorizer``.

Anything else raises ``Exception("Unauthorized")``: the exact message API Gateway turns into a 401
(any other error is a 500). A Redis outage fails closed (a 500), never open.

Cold start matters here — every first request of a client waits for it — so this module imports
PyJWT, redis and the standard library only (no Powertools, pydantic, pymongo or numpy); boto3 is
imported only if the secret must come from Secrets Manager.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Final

from deltastream.adapters.redis_state import redis_client
from deltastream.api.errors import Unauthorized
from deltastream.auth.redis_store import RedisRevocations
from deltastream.auth.secrets import boto3_fetch, key_source_from_env
from deltastream.auth.tokens import AccessClaims, AccessTokens, bearer_token
from deltastream.config import Settings

UNAUTHORIZED: Final = "Unauthorized"  # API Gateway matches this message exactly → 401

logger = logging.getLogger("deltastream.authorizer")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
access_tokens = AccessTokens(key_source_from_env(os.environ, fetch=boto3_fetch))
revocations = RedisRevocations(redis_client(settings.redis_url))


def api_wildcard_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/VERB/PATH…`` → ``…:API/STAGE/*/*``."""
    api, _, rest = method_arn.partition("/")
    stage = rest.partition("/")[0]
    if not api.startswith("arn:") or not stage:
        raise ValueError(f"not an execute-api method ARN: {method_arn!r}")
    return f"{api}/{stage}/*/*"


def request_token(event: dict[str, Any]) -> str | None:
    """The token of a REQUEST event: ``?token=`` (WebSocket), else an ``Authorization: Bearer``."""
    token = (event.get("queryStringParameters") or {}).get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return bearer_token(headers.get("authorization"))


def allow_policy(claims: AccessClaims, method_arn: str, *, any_route: bool = False) -> dict[str, Any]:
    """Allow every route of the stage: ``…/{stage}/*/*`` (REST verbs and paths), or with ``any_route``
    ``…/{stage}/*`` (also WebSocket routes)."""
    resource = api_wildcard_arn(method_arn)
    if any_route:
        resource = resource.removesuffix("/*")
    return {
        "principalId": claims.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": resource,
                }
            ],
        },
        "context": {"userId": claims.user_id, "email": claims.email, "name": claims.name},
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    is_request = event.get("type") == "REQUEST"
    token = request_token(event) if is_request else bearer_token(event.get("authorizationToken"))
    if token is None:
        raise Exception(UNAUTHORIZED)
    try:
        claims = access_tokens.verify(token)
        policy = allow_policy(claims, str(event.get("methodArn", "")), any_route=is_request)
    except (Unauthorized, ValueError):
        raise Exception(UNAUTHORIZED) from None
    if revocations.is_revoked(claims.jti):
        logger.info("revoked access token refused (jti %s)", claims.jti)
        raise Exception(UNAUTHORIZED)
    return policy
