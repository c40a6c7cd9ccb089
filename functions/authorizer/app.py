"""AuthorizerFunction: the REST API's TOKEN authorizer for every protected route.

A valid, unrevoked access token gets an IAM policy allowing ``execute-api:Invoke`` on every route of
the API's stage (``arn:…:{apiId}/{stage}/*/*``): API Gateway caches the answer per token for
``ReauthorizeEvery`` seconds, and a policy naming only the first route called would deny the next
route from the cache. The context ``{"userId", "email", "name"}`` reaches the functions as
``requestContext.authorizer``.

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


def allow_policy(claims: AccessClaims, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": claims.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": api_wildcard_arn(method_arn),
                }
            ],
        },
        "context": {"userId": claims.user_id, "email": claims.email, "name": claims.name},
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = bearer_token(event.get("authorizationToken"))
    if token is None:
        raise Exception(UNAUTHORIZED)
    try:
        claims = access_tokens.verify(token)
        policy = allow_policy(claims, str(event.get("methodArn", "")))
    except (Unauthorized, ValueError):
        raise Exception(UNAUTHORIZED) from None
    if revocations.is_revoked(claims.jti):
        logger.info("revoked access token refused (jti %s)", claims.jti)
        raise Exception(UNAUTHORIZED)
    return policy
