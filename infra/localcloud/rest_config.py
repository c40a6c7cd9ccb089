"""The template's REST APIs (API Gateway v1) as plain configuration: routes, authorizers, CORS.

Built from the resolved :class:`~localcloud.model.AppModel` the way SAM builds a REST API from a
template: every function event of ``Type: Api`` is a method on a resource of the API its ``RestApiId``
names, or of the implicit ``ServerlessRestApi`` (stage ``Prod``) when it names none; the
``AWS::Serverless::Api`` resource gives the stage, ``Cors``, ``Auth`` (``DefaultAuthorizer``,
``Authorizers``, ``AddDefaultAuthorizerToCorsPreflight``), ``BinaryMediaTypes``, ``Variables`` and
``GatewayResponses``. Properties the local gateway does not emulate (usage plans, method settings,
Cognito and IAM authorization) are logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from localcloud.model import AppModel, OtherEventSpec, ResourceSpec
from localcloud.template_refs import Resource, StackContext, ref_value

__all__ = [
    "IMPLICIT_API",
    "AuthorizerConfig",
    "CorsConfig",
    "GatewayResponseConfig",
    "RestApiConfig",
    "RouteConfig",
    "rest_apis",
]

log = logging.getLogger("localcloud.rest")

IMPLICIT_API: Final = "ServerlessRestApi"
IMPLICIT_STAGE: Final = "Prod"  # SAM's stage for the implicit API
DEFAULT_TTL_S: Final = 300  # SAM's ReauthorizeEvery default
ALL_METHODS: Final = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

PayloadType = Literal["TOKEN", "REQUEST"]


@dataclass(frozen=True, slots=True)
class AuthorizerConfig:
    """A Lambda authorizer of ``Auth.Authorizers`` (``FunctionPayloadType`` TOKEN or REQUEST)."""

    name: str
    function_id: str  # logical id of the function whose ARN ``FunctionArn`` names
    payload_type: PayloadType = "TOKEN"
    header: str = "Authorization"  # TOKEN: ``Identity.Header``
    validation_expression: str | None = None  # TOKEN: ``Identity.ValidationExpression``
    ttl_s: int = DEFAULT_TTL_S  # ``Identity.ReauthorizeEvery``; 0 disables the cache
    headers: tuple[str, ...] = ()  # REQUEST: ``Identity.Headers``
    query_strings: tuple[str, ...] = ()  # REQUEST: ``Identity.QueryStrings``
    stage_variables: tuple[str, ...] = ()  # REQUEST: ``Identity.StageVariables``


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """SAM ``Cors``: values are the unquoted contents of SAM's ``"'...'"`` strings."""

    allow_origin: str
    allow_headers: str | None = None
    allow_methods: str | None = None  # None: the resource's methods plus OPTIONS, as SAM computes
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass(frozen=True, slots=True)
class GatewayResponseConfig:
    """One entry of ``GatewayResponses`` (``DEFAULT_4XX``, ``UNAUTHORIZED``, ...)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # unquoted static values
    templates: dict[str, str] = field(default_factory=dict)  # content type -> body template


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """A method on a resource: ``Path`` + ``Method`` of one Api event, integrated with a function."""

    path: str  # resource path template: "/items/{id}", "/files/{proxy+}"
    method: str  # upper case, or "ANY"
    function_id: str
    authorizer: str | None  # authorizer name; None: no authorization
    event: str = ""  # "<Function>.<Event>", for messages


@dataclass(frozen=True, slots=True)
class RestApiConfig:
    logical_id: str
    api_id: str
    stage: str
    routes: tuple[RouteConfig, ...]
    authorizers: dict[str, AuthorizerConfig] = field(default_factory=dict)
    cors: CorsConfig | None = None
    preflight_authorizer: str | None = None  # DefaultAuthorizer when AddDefaultAuthorizerToCorsPreflight
    binary_media_types: tuple[str, ...] = ()
    stage_variables: dict[str, str] = field(default_factory=dict)
    gateway_responses: dict[str, GatewayResponseConfig] = field(default_factory=dict)


def rest_apis(model: AppModel) -> list[RestApiConfig]:
    """Every REST API with at least one route, in template order (the implicit API last)."""
    apis = {
        spec.physical_name: spec for spec in model.resources.values() if spec.type == "AWS::Serverless::Api"
    }
    function_ids = {spec.arn: logical_id for logical_id, spec in model.functions.items()}
    implicit_id = _implicit_api_id(model)
    routes: dict[str, list[RouteConfig]] = {}
    for logical_id, function in model.functions.items():
        for event in function.events:
            if not isinstance(event, OtherEventSpec) or event.type != "Api":
                continue
            properties = event.properties
            api_id = str(properties.get("RestApiId") or implicit_id)
            if api_id != implicit_id and api_id not in apis:
                log.warning(
                    "%s.%s: RestApiId %s is not an API of this template; ignored",
                    logical_id,
                    event.name,
                    api_id,
                )
                continue
            routes.setdefault(api_id, []).append(_route(logical_id, event, apis.get(api_id)))
    configs = [_api(spec, routes[api_id], function_ids) for api_id, spec in apis.items() if api_id in routes]
    if implicit_id in routes:
        configs.append(RestApiConfig(IMPLICIT_API, implicit_id, IMPLICIT_STAGE, tuple(routes[implicit_id])))
    return configs


def _implicit_api_id(model: AppModel) -> str:
    """What ``!Ref ServerlessRestApi`` resolves to (the template reader's id for SAM's implicit API)."""
    context = StackContext(model.stack_name, model.region, model.account_id, "")
    return ref_value(Resource(context, IMPLICIT_API, "AWS::Serverless::Api", "", lambda _key: None))


def _route(function_id: str, event: OtherEventSpec, api: ResourceSpec | None) -> RouteConfig:
    properties = event.properties
    where = f"{function_id}.{event.name}"
    path = "/" + str(properties.get("Path", "/")).strip("/")
    method = str(properties.get("Method", "ANY")).upper()
    if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
        method = "ANY"
    auth = _mapping(properties.get("Auth"))
    default = _mapping(_mapping(api.properties if api else None).get("Auth")).get("DefaultAuthorizer")
    authorizer = auth.get("Authorizer", default)
    if authorizer in ("NONE", None):
        authorizer = None
    elif authorizer == "AWS_IAM":
        log.warning("%s: AWS_IAM authorization is not emulated; the route is open locally", where)
        authorizer = None
    return RouteConfig(path, method, function_id, None if authorizer is None else str(authorizer), where)


def _api(spec: ResourceSpec, routes: list[RouteConfig], function_ids: Mapping[str, str]) -> RestApiConfig:
    properties = spec.properties
    auth = _mapping(properties.get("Auth"))
    authorizers: dict[str, AuthorizerConfig] = {}
    for name, definition in _mapping(auth.get("Authorizers")).items():
        authorizer = _authorizer(spec.logical_id, str(name), _mapping(definition), function_ids)
        if authorizer is not None:
            authorizers[authorizer.name] = authorizer
    for route in routes:
        if route.authorizer is not None and route.authorizer not in authorizers:
            log.warning(
                "%s: authorizer %s is not emulated; requests answer 500", route.event, route.authorizer
            )
    default = auth.get("DefaultAuthorizer")
    # SAM's AddDefaultAuthorizerToCorsPreflight defaults to true: the OPTIONS methods it generates
    # are then protected by the default authorizer too.
    preflight = (
        default if default and auth.get("AddDefaultAuthorizerToCorsPreflight", True) is not False else None
    )
    for key in ("UsagePlan", "ResourcePolicy", "ApiKeyRequired"):
        if key in auth:
            log.info("%s: Auth.%s is not emulated", spec.logical_id, key)
    return RestApiConfig(
        logical_id=spec.logical_id,
        api_id=spec.physical_name,
        stage=str(properties.get("StageName") or IMPLICIT_STAGE),
        routes=tuple(routes),
        authorizers=authorizers,
        cors=_cors(properties.get("Cors")),
        preflight_authorizer=None if preflight in (None, "NONE") else str(preflight),
        binary_media_types=tuple(_media_type(t) for t in properties.get("BinaryMediaTypes") or ()),
        stage_variables={str(k): str(v) for k, v in _mapping(properties.get("Variables")).items()},
        gateway_responses={
            str(kind): _gateway_response(_mapping(response))
            for kind, response in _mapping(properties.get("GatewayResponses")).items()
        },
    )


def _authorizer(
    api: str, name: str, definition: Mapping[str, Any], function_ids: Mapping[str, str]
) -> AuthorizerConfig | None:
    arn = definition.get("FunctionArn")
    if arn is None:
        log.warning("%s: authorizer %s is not a Lambda authorizer (Cognito?); not emulated", api, name)
        return None
    function_id = function_ids.get(str(arn))
    if function_id is None:
        log.warning("%s: authorizer %s: %s is not a function of this template; not emulated", api, name, arn)
        return None
    identity = _mapping(definition.get("Identity"))
    payload_type = str(definition.get("FunctionPayloadType", "TOKEN")).upper()
    if payload_type not in ("TOKEN", "REQUEST"):
        log.warning("%s: authorizer %s: FunctionPayloadType %s unknown; TOKEN used", api, name, payload_type)
        payload_type = "TOKEN"
    return AuthorizerConfig(
        name=name,
        function_id=function_id,
        payload_type="REQUEST" if payload_type == "REQUEST" else "TOKEN",
        header=str(identity.get("Header", "Authorization")),
        validation_expression=(
            str(identity["ValidationExpression"]) if identity.get("ValidationExpression") else None
        ),
        ttl_s=int(identity.get("ReauthorizeEvery", DEFAULT_TTL_S)),
        headers=tuple(str(h) for h in identity.get("Headers") or ()),
        query_strings=tuple(str(q) for q in identity.get("QueryStrings") or ()),
        stage_variables=tuple(str(v) for v in identity.get("StageVariables") or ()),
    )


def _cors(value: Any) -> CorsConfig | None:
    """SAM ``Cors``: a string is the ``AllowOrigin``; a mapping gives each header's value."""
    if value is None:
        return None
    if isinstance(value, str):
        return CorsConfig(allow_origin=unquote(value))
    cors = _mapping(value)

    def header(key: str) -> str | None:
        return None if cors.get(key) is None else unquote(str(cors[key]))

    return CorsConfig(
        allow_origin=header("AllowOrigin") or "*",
        allow_headers=header("AllowHeaders"),
        allow_methods=header("AllowMethods"),
        max_age=header("MaxAge"),
        allow_credentials=cors.get("AllowCredentials") in (True, "true", "True"),
    )


def _gateway_response(response: Mapping[str, Any]) -> GatewayResponseConfig:
    status = response.get("StatusCode")
    headers = _mapping(_mapping(response.get("ResponseParameters")).get("Headers"))
    return GatewayResponseConfig(
        status=None if status is None else int(status),
        headers={str(name): unquote(str(value)) for name, value in headers.items()},
        templates={str(k): str(v) for k, v in _mapping(response.get("ResponseTemplates")).items()},
    )


def unquote(value: str) -> str:
    """``"'value'"`` → ``value``: SAM takes CORS and gateway-response header values as static
    mapping expressions, single-quoted; an unquoted one is used as is (with a warning)."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    log.warning("%r is not a quoted static value (API Gateway expects \"'...'\"); used as is", value)
    return value


def _media_type(value: Any) -> str:
    """``BinaryMediaTypes`` entries are written ``image~1png`` in SAM (``~1`` escapes ``/``)."""
    return str(value).replace("~1", "/").lower()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
