"""AuthFunction: POST /api/auth/register|login|refresh|logout|verify (ARCHITECTURE §5).

The routes, models and error mapping are in :mod:`deltastream.api.auth_routes`, the rules in
:mod:`deltastream.auth.service`; this module wires them to Redis, MongoDB and the signing secret.

No Powertools Tracer here, deliberately: building it imports the X-Ray SDK and botocore and creates
an X-Ray client, ≈ 200 ms measured, which alone nearly doubles this function's cold start (target
≤ 250 ms; every login after idle waits for it). Lambda's active tracing (``Tracing: Active``) still
records the invocation segment. MongoDB is connected on first use (:meth:`MongoUsers.from_url`), so
the verify and logout routes never import pymongo.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from deltastream.adapters.redis_state import redis_client
from deltastream.api.auth_routes import create_resolver
from deltastream.auth.passwords import Passwords
from deltastream.auth.ratelimit import LoginThrottle
from deltastream.auth.redis_store import RedisFailureCounters, RedisRefreshStore, RedisRevocations
from deltastream.auth.secrets import key_source_from_env
from deltastream.auth.service import AuthService
from deltastream.auth.settings import AuthSettings
from deltastream.auth.tokens import AccessTokens
from deltastream.auth.users import MongoUsers
from deltastream.config import Settings

logger = Logger(service="auth")
metrics = Metrics()

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
auth_settings = AuthSettings.from_env()
redis = redis_client(settings.redis_url)
service = AuthService(
    users=MongoUsers.from_url(settings.mongo_url, settings.mongo_db),  # connects on first use
    passwords=Passwords(),
    access_tokens=AccessTokens(key_source_from_env(os.environ), ttl_s=auth_settings.access_token_ttl_s),
    refresh_tokens=RedisRefreshStore(redis),
    revocations=RedisRevocations(redis),
    throttle=LoginThrottle(RedisFailureCounters(redis)),
    refresh_ttl_s=auth_settings.refresh_token_ttl_s,
)
resolver = create_resolver(service, cors_allow_origin=auth_settings.cors_allow_origin)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = resolver.resolve(event, context)
    status_class = f"Responses{response['statusCode'] // 100}xx"
    metrics.add_metric(name=status_class, unit=MetricUnit.Count, value=1)
    return response
