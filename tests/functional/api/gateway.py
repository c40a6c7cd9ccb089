"""API Gateway as the REST functions see it: proxy events (``sam local generate-event apigateway
aws-proxy``), a Lambda context, and the proxy response read back. Socket-free: the unit tier uses it
on resolvers built from in-memory fakes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


def load_event(name: str = "aws_proxy") -> dict[str, Any]:
    """An API Gateway proxy event (``sam local generate-event apigateway aws-proxy``)."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def proxy_event(
    path: str, query: Mapping[str, str] | None = None, *, user: str | None = "user-1"
) -> dict[str, Any]:
    """A GET of ``path`` as API Gateway sends it; ``user`` is the authorizer's userId (None: a public
    route, no authorizer)."""
    event = copy.deepcopy(load_event())
    event.update(
        path=path,
        resource=path,
        body=None,
        isBase64Encoded=False,
        pathParameters=None,
        queryStringParameters=dict(query) if query else None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    event["requestContext"]["path"] = f"/prod{path}"
    if user is not None:
        event["requestContext"]["authorizer"] = {"userId": user, "principalId": user}
    return event


class LambdaContext:
    function_name = "api-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:api-test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def invoke(target: Any, event: dict[str, Any]) -> Answer:
    """Call a function module's ``handler`` (or a resolver's ``resolve``) with ``event``."""
    call: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(target, "handler", None) or target.resolve
    response = call(event, LambdaContext())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return Answer(response["statusCode"], headers, response["body"])
