"""DataFunction: health, the API docs, the product catalogue and market data reads (ARCHITECTURE §5).

Routes: :mod:`deltastream.api.data_routes`; reads: Redis first, MongoDB on a miss — and MongoDB is
connected on the first fallback only, so most cold starts never import pymongo.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from deltastream.adapters.redis_state import redis_client
from deltastream.api.common import ApiSettings, Catalogue, TokenBucket, build_resolver
from deltastream.api.data_routes import data_router
from deltastream.api.openapi import docs_response
from deltastream.config import Settings
from deltastream.ports import History
from deltastream.services.market_reads import LazyHistory

logger = Logger(service="data")
metrics = Metrics()
tracer = Tracer(service="data", auto_patch=False)  # patch_all would import pymongo at cold start


def connect_history() -> History:
    """MongoDB on first use, traced from then on."""
    from deltastream.adapters.mongo import MongoHistory

    tracer.patch(["pymongo"])
    return MongoHistory.from_settings(settings)


# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
api_settings = ApiSettings.from_env()
redis = redis_client(settings.redis_url)
app = build_resolver(
    data_router(redis, LazyHistory(connect_history), Catalogue(settings.products), docs=docs_response),
    settings=api_settings,
    bucket=TokenBucket(redis, api_settings.rate_limit_per_minute),
)


@tracer.capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
