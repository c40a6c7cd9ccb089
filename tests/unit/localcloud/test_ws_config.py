"""WebSocket API configuration from the test application's raw CloudFormation, and the endpoint rewrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.model import AppModel
from localcloud.template import load_template
from localcloud.ws_config import local_endpoints, rewrite_endpoints, served_resources, websocket_apis

TEMPLATE = Path(__file__).parents[2] / "functional" / "localcloud" / "wsapp" / "template.yaml"


@pytest.fixture(scope="module")
def model() -> AppModel:
    return load_template(TEMPLATE, stack_name="lc-ws")


def test_routes_integrations_and_authorizer_are_joined_by_their_refs(model: AppModel) -> None:
    (api,) = websocket_apis(model)

    assert (api.logical_id, api.stage, api.route_selection_expression) == (
        "WsApi",
        "dev",
        "$request.body.action",
    )
    assert {key: route.function_id for key, route in api.routes.items()} == {
        "$connect": "ConnectFunction",
        "$disconnect": "DisconnectFunction",
        "$default": "DefaultFunction",
        "echo": "EchoFunction",
        "fail": "FailFunction",
    }
    authorizer = api.routes["$connect"].authorizer
    assert authorizer is not None
    assert (authorizer.function_id, authorizer.payload_type, authorizer.query_strings, authorizer.ttl_s) == (
        "AuthorizerFunction",
        "REQUEST",
        ("token",),
        0,
    )
    assert api.routes["$default"].two_way
    assert not api.routes["echo"].two_way
    assert (
        api.method_arn("$connect") == f"arn:aws:execute-api:us-east-1:123456789012:{api.api_id}/dev/$connect"
    )


def test_function_environment_and_outputs_point_at_the_local_gateway(model: AppModel) -> None:
    apis = websocket_apis(model)

    local = rewrite_endpoints(model, local_endpoints(apis, 3001))

    environment = local.functions["EchoFunction"].environment
    assert environment["WS_MANAGEMENT_URL"] == "http://127.0.0.1:3001/dev"
    assert environment["WS_ENDPOINT"] == "ws://127.0.0.1:3001"
    assert environment["RECORD_DIR"] == model.functions["EchoFunction"].environment["RECORD_DIR"]
    assert local.outputs["WebSocketUrl"] == "ws://127.0.0.1:3001/dev"


def test_served_resources_cover_the_api_and_its_parts_but_not_the_permission(model: AppModel) -> None:
    served = served_resources(model, websocket_apis(model))

    assert {"WsApi", "WsStage", "WsDeployment", "TokenAuthorizer", "EchoRoute", "EchoIntegration"} <= served
    assert "DefaultRouteResponse" in served
    assert "EchoPermission" not in served
