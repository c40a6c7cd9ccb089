"""The template's WebSocket APIs (API Gateway v2, ``ProtocolType: WEBSOCKET``) as plain configuration.

Built from raw CloudFormation resources, joined by the ids their ``Ref`` values give:

- ``AWS::ApiGatewayV2::Api``: ``ProtocolType: WEBSOCKET``, ``RouteSelectionExpression``
  (``$request.body.action``);
- ``AWS::ApiGatewayV2::Route``: ``ApiId``, ``RouteKey`` (``$connect``, ``$disconnect``, ``$default`` or a
  custom key), ``Target: integrations/<IntegrationId>``, ``AuthorizationType: CUSTOM`` +
  ``AuthorizerId`` (API Gateway allows authorization on ``$connect`` only), and
  ``RouteResponseSelectionExpression``: set, the route is *two-way* and the integration's response body
  goes back to the client (API Gateway's documented behaviour for proxy integrations: "add a route
  response and set the route response selection expression to ``$default``"); unset, the response is
  dropped;
- ``AWS::ApiGatewayV2::Integration``: ``AWS_PROXY`` with ``IntegrationUri``
  ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<FunctionArn>/invocations``;
- ``AWS::ApiGatewayV2::Authorizer``: ``AuthorizerType: REQUEST``, ``IdentitySource``
  (``route.request.querystring.<name>``, ``route.request.header.<name>``, ``stageVariables.<name>``),
  ``AuthorizerUri`` like an integration's. WebSocket APIs do not cache authorizer results
  (``AuthorizerResultTtlInSeconds`` is for HTTP APIs only), so every ``$connect`` invokes it;
- ``AWS::ApiGatewayV2::Stage``: ``StageName`` (Deployments and Lambda Permissions are ignored).

**Local endpoints.** In AWS the API is ``wss://<apiId>.execute-api.<region>.amazonaws.com/<stage>``
(``Fn::GetAtt Api.ApiEndpoint`` is that without the stage) and its ``@connections`` management API is
``https://<apiId>.execute-api.<region>.amazonaws.com/<stage>``. :func:`local_endpoints` maps both
prefixes to the local gateway (``ws://127.0.0.1:<port>``, ``http://127.0.0.1:<port>``), and the local
cloud rewrites every function environment value (and output) containing them, so a function that posts
with ``endpoint_url=os.environ["WS_MANAGEMENT_URL"]`` reaches the local gateway unchanged.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from localcloud.model import AppModel, ResourceSpec
from localcloud.rest_config import AuthorizerConfig

__all__ = [
    "WebSocketApiConfig",
    "WsRouteConfig",
    "local_endpoints",
    "rewrite_endpoints",
    "served_resources",
    "websocket_apis",
]

log = logging.getLogger("localcloud.websocket")

API: Final = "AWS::ApiGatewayV2::Api"
ROUTE: Final = "AWS::ApiGatewayV2::Route"
INTEGRATION: Final = "AWS::ApiGatewayV2::Integration"
AUTHORIZER: Final = "AWS::ApiGatewayV2::Authorizer"
STAGE: Final = "AWS::ApiGatewayV2::Stage"
DEFAULT_STAGE: Final = "local"  # an API without a Stage resource (it could not be called in AWS)
DEFAULT_SELECTION: Final = "$request.body.action"

_LAMBDA_URI: Final = re.compile(
    r"^arn:[^:]+:apigateway:[^:]*:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$"
)


@dataclass(frozen=True, slots=True)
class WsRouteConfig:
    route_key: str  # "$connect", "$disconnect", "$default" or a custom key ("echo")
    function_id: str | None  # the integrated function; None: no (emulated) integration
    authorizer: AuthorizerConfig | None = None  # $connect only
    two_way: bool = False  # RouteResponseSelectionExpression set: the integration's body is sent back


@dataclass(frozen=True, slots=True)
class WebSocketApiConfig:
    logical_id: str
    api_id: str
    stage: str
    region: str
    account_id: str
    routes: dict[str, WsRouteConfig] = field(default_factory=dict)
    route_selection_expression: str = DEFAULT_SELECTION
    stage_variables: dict[str, str] = field(default_factory=dict)

    @property
    def domain_name(self) -> str:
        """The API's AWS domain (``requestContext.domainName``)."""
        suffix = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        return f"{self.api_id}.execute-api.{self.region}.{suffix}"

    @property
    def selection_path(self) -> tuple[str, ...] | None:
        """``$request.body.a.b`` → ``("a", "b")``; None for an expression selecting something else."""
        prefix = "$request.body."
        expression = self.route_selection_expression
        if not expression.startswith(prefix) or len(expression) == len(prefix):
            return None
        return tuple(expression[len(prefix) :].split("."))

    def method_arn(self, route_key: str) -> str:
        """``arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<routeKey>``: what the REQUEST
        authorizer's policy is evaluated against."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{route_key}"


def websocket_apis(model: AppModel) -> list[WebSocketApiConfig]:
    """Every ``WEBSOCKET`` API of the template with its routes, in template order."""
    by_type: dict[str, list[ResourceSpec]] = {}
    for spec in model.resources.values():
        by_type.setdefault(spec.type, []).append(spec)
    functions = {spec.arn: logical_id for logical_id, spec in model.functions.items()}
    integrations = {
        spec.physical_name: _function_of(spec, "IntegrationUri", functions)
        for spec in by_type.get(INTEGRATION, [])
    }
    authorizers = {spec.physical_name: spec for spec in by_type.get(AUTHORIZER, [])}
    apis: list[WebSocketApiConfig] = []
    for api in by_type.get(API, []):
        if api.properties.get("ProtocolType") != "WEBSOCKET":
            continue
        api_id = api.physical_name  # the generated API id (what Ref returns)
        stages = [s for s in by_type.get(STAGE, []) if s.properties.get("ApiId") == api_id]
        stage = stages[0] if stages else None
        if stage is None:
            log.warning("%s: no AWS::ApiGatewayV2::Stage; served as stage %r", api.logical_id, DEFAULT_STAGE)
        routes: dict[str, WsRouteConfig] = {}
        for route in by_type.get(ROUTE, []):
            if route.properties.get("ApiId") != api_id:
                continue
            config = _route(route, integrations, authorizers, functions)
            if config.route_key in routes:
                log.warning("%s: duplicate route %s; the first is served", api.logical_id, config.route_key)
                continue
            routes[config.route_key] = config
        apis.append(
            WebSocketApiConfig(
                logical_id=api.logical_id,
                api_id=api_id,
                stage=str(stage.properties.get("StageName") or DEFAULT_STAGE) if stage else DEFAULT_STAGE,
                region=model.region,
                account_id=model.account_id,
                routes=routes,
                route_selection_expression=str(
                    api.properties.get("RouteSelectionExpression") or DEFAULT_SELECTION
                ),
                stage_variables={
                    str(k): str(v)
                    for k, v in ((stage.properties.get("StageVariables") or {}) if stage else {}).items()
                },
            )
        )
    return apis


def _function_of(spec: ResourceSpec, key: str, functions: Mapping[str, str]) -> str | None:
    """The function (logical id) an ``IntegrationUri`` / ``AuthorizerUri`` invokes, or None."""
    uri = str(spec.properties.get(key) or "")
    match = _LAMBDA_URI.match(uri)
    arn = match.group("arn") if match else uri
    function_id = functions.get(arn)
    if function_id is None:
        log.warning("%s: %s %r is not a function of this template; not emulated", spec.logical_id, key, uri)
    return function_id


def _route(
    route: ResourceSpec,
    integrations: Mapping[str, str | None],
    authorizers: Mapping[str, ResourceSpec],
    functions: Mapping[str, str],
) -> WsRouteConfig:
    properties = route.properties
    route_key = str(properties.get("RouteKey") or "$default")
    target = str(properties.get("Target") or "")
    function_id = integrations.get(target.removeprefix("integrations/")) if target else None
    if function_id is None:
        log.warning(
            "%s: route %s has no Lambda integration; messages to it are dropped", route.logical_id, route_key
        )
    authorizer: AuthorizerConfig | None = None
    if properties.get("AuthorizationType") == "CUSTOM":
        spec = authorizers.get(str(properties.get("AuthorizerId")))
        if spec is None:
            log.warning(
                "%s: AuthorizerId %s is not an authorizer of this template",
                route.logical_id,
                properties.get("AuthorizerId"),
            )
        elif route_key != "$connect":
            log.warning(
                "%s: API Gateway authorizes $connect only; the authorizer is ignored", route.logical_id
            )
        else:
            authorizer = _authorizer(spec, functions)
    return WsRouteConfig(
        route_key=route_key,
        function_id=function_id,
        authorizer=authorizer,
        two_way=bool(properties.get("RouteResponseSelectionExpression")),
    )


def _authorizer(spec: ResourceSpec, functions: Mapping[str, str]) -> AuthorizerConfig | None:
    """A REQUEST authorizer, as the REST gateway's :class:`AuthorizerConfig` (its code is reused)."""
    if spec.properties.get("AuthorizerType", "REQUEST") != "REQUEST":
        log.warning("%s: only REQUEST authorizers exist for WebSocket APIs", spec.logical_id)
        return None
    function_id = _function_of(spec, "AuthorizerUri", functions)
    if function_id is None:
        return None
    sources = spec.properties.get("IdentitySource") or []
    if isinstance(sources, str):
        sources = [s.strip() for s in sources.split(",")]
    headers: list[str] = []
    query_strings: list[str] = []
    stage_variables: list[str] = []
    for source in map(str, sources):
        if source.startswith("route.request.header."):
            headers.append(source.removeprefix("route.request.header."))
        elif source.startswith("route.request.querystring."):
            query_strings.append(source.removeprefix("route.request.querystring."))
        elif source.startswith("stageVariables."):
            stage_variables.append(source.removeprefix("stageVariables."))
        else:
            log.warning("%s: identity source %s is not emulated", spec.logical_id, source)
    return AuthorizerConfig(
        name=spec.logical_id,
        function_id=function_id,
        payload_type="REQUEST",
        ttl_s=0,
        headers=tuple(headers),
        query_strings=tuple(query_strings),
        stage_variables=tuple(stage_variables),
    )


# --- local endpoints ----------------------------------------------------------------------------------


def local_endpoints(apis: list[WebSocketApiConfig], port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """AWS URL prefix → local prefix, for each API: its ``wss://`` endpoint (``ApiEndpoint``) and its
    ``https://`` management endpoint (``.../<stage>`` keeps its stage: ``/<stage>/@connections/...``
    is served locally too)."""
    replacements: dict[str, str] = {}
    for api in apis:
        replacements[f"wss://{api.domain_name}"] = f"ws://{host}:{port}"
        replacements[f"https://{api.domain_name}"] = f"http://{host}:{port}"
    return replacements


def _rewrite(value: Any, replacements: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for aws, local in replacements.items():
            value = value.replace(aws, local)
        return value
    if isinstance(value, dict):
        return {k: _rewrite(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, replacements) for v in value]
    return value


def rewrite_endpoints(model: AppModel, replacements: Mapping[str, str]) -> AppModel:
    """The model with every function environment value and output pointing at a WebSocket API's AWS
    endpoint pointing at the local gateway instead."""
    if not replacements:
        return model
    functions = {}
    for logical_id, spec in model.functions.items():
        environment = {name: _rewrite(value, replacements) for name, value in spec.environment.items()}
        for name, value in environment.items():
            if value != spec.environment[name]:
                log.info("%s: %s=%s (local WebSocket gateway)", logical_id, name, value)
        functions[logical_id] = dataclasses.replace(spec, environment=environment)
    return dataclasses.replace(model, functions=functions, outputs=_rewrite(model.outputs, replacements))


def served_resources(model: AppModel, apis: list[WebSocketApiConfig]) -> set[str]:
    """Logical ids of the served APIs and of their routes, integrations, authorizers, stages and
    deployments (for the local cloud's "not emulated" list)."""
    api_ids = {api.api_id for api in apis}
    served = {api.logical_id for api in apis}
    for spec in model.resources.values():
        if spec.type.startswith("AWS::ApiGatewayV2::") and spec.properties.get("ApiId") in api_ids:
            served.add(spec.logical_id)
    return served
