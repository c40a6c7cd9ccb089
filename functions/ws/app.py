"""WsFunction: every route of the WebSocket API (ARCHITECTURE §6), dispatched on ``routeKey``.

``$connect`` (already authorised by the REQUEST authorizer, whose context names the user) registers
the connection in ``general`` and ``user:ID``; ``$disconnect`` forgets it; any other route is a client
message (``subscribe``, ``unsubscribe``, ``get_products``, ``ping``, or ``$default`` for anything
else), answered with events posted through ``@connections`` — a route's return value reaches the
client only when a route response is configured, so replies are posted explicitly. The ``connected``
event precedes the reply to a connection's first message (see :mod:`deltastream.ws.session`).

Cold start: ``$connect`` is the first thing a client waits for, so this module imports redis, orjson
and the standard library only (no Powertools, pydantic or numpy); boto3 is imported on the first
reply, which ``$connect`` and ``$disconnect`` never send.
"""

from __future__ import annotations

import base64
import logging
import os
from typing import Any, Final

from deltastream.adapters.redis_state import redis_client
from deltastream.config import Settings
from deltastream.ws.connections import ThreadPoster, management_client
from deltastream.ws.registry import ConnectionRegistry
from deltastream.ws.session import WsSession
from deltastream.ws.snapshots import RedisSnapshots

OK: Final = {"statusCode": 200}

logger = logging.getLogger("deltastream.ws")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())

# Composition root: built once per sandbox, reused by every invocation.
settings = Settings.from_env()
_redis = redis_client(settings.redis_url)
registry = ConnectionRegistry(_redis)
session = WsSession(registry=registry, snapshots=RedisSnapshots(_redis), symbols=settings.products)


def _management_url(context: dict[str, Any]) -> str:
    """``WS_MANAGEMENT_URL``; else this API's own ``https://{domainName}/{stage}``."""
    return os.environ.get("WS_MANAGEMENT_URL") or f"https://{context['domainName']}/{context['stage']}"


_posters: dict[str, ThreadPoster] = {}


def poster_for(context: dict[str, Any]) -> ThreadPoster:
    url = _management_url(context)
    if url not in _posters:
        _posters[url] = ThreadPoster(lambda: management_client(url))
    return _posters[url]


def _body(event: dict[str, Any]) -> str | bytes | None:
    body: str | None = event.get("body")
    if body is not None and event.get("isBase64Encoded"):  # a binary frame
        return base64.b64decode(body)
    return body


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), request.get("connectionId")
    if not connection_id:
        logger.error("no connectionId in the request context (route %r)", route)
        return {"statusCode": 400}
    if route == "$connect":
        authorizer = request.get("authorizer") or {}
        user_id = authorizer.get("userId") or authorizer.get("principalId")
        if not user_id:  # only reachable without the authorizer in front (a misconfigured route)
            logger.error("$connect without an authorised user: refused")
            return {"statusCode": 401}
        rooms = session.connect(connection_id, user_id=str(user_id), email=str(authorizer.get("email", "")))
        logger.info("connected %s (user %s) in %s", connection_id, user_id, rooms)
        return OK
    if route == "$disconnect":
        session.disconnect(connection_id)
        logger.info("disconnected %s", connection_id)
        return OK
    poster = poster_for(request)
    for reply in session.message(connection_id, _body(event)):  # in order: connected first
        report = poster.post_many([(connection_id, reply)])
        if report.gone:  # the sender itself has gone: forget it, nothing more to send
            registry.remove(connection_id)
            break
    return OK
