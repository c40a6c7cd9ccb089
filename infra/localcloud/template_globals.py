"""SAM's ``Globals`` section, merged into each ``AWS::Serverless::*`` resource as SAM's translator does.

The rules are those of ``samtranslator/plugins/globals/globals.py`` (``GlobalProperties``):

- a primitive (string, number, boolean) or an intrinsic function on the resource replaces the global;
- two mappings merge key by key, recursively, the resource winning (``Environment.Variables``);
- two lists concatenate, globals first, without de-duplication (``Layers``);
- values of different kinds: the resource's value wins.

A resource can opt out with the ``IgnoreGlobals`` attribute (``"*"`` or a list of property names).
The merge runs on the raw template, before intrinsics are evaluated, as in SAM.
"""

from __future__ import annotations

from typing import Any, Final

from localcloud.intrinsics import TemplateError, is_intrinsic

__all__ = ["SamGlobals"]

# samtranslator's Globals.supported_properties: what each section may set.
_SUPPORTED: Final[dict[str, frozenset[str]]] = {
    "Function": frozenset(
        [
            "Handler",
            "Runtime",
            "CodeUri",
            "DeadLetterQueue",
            "Description",
            "MemorySize",
            "Timeout",
            "VpcConfig",
            "Environment",
            "Tags",
            "PropagateTags",
            "Tracing",
            "KmsKeyArn",
            "AutoPublishAlias",
            "AutoPublishAliasAllProperties",
            "Layers",
            "DeploymentPreference",
            "RolePath",
            "PermissionsBoundary",
            "ReservedConcurrentExecutions",
            "ProvisionedConcurrencyConfig",
            "AssumeRolePolicyDocument",
            "EventInvokeConfig",
            "FileSystemConfigs",
            "CodeSigningConfigArn",
            "Architectures",
            "SnapStart",
            "EphemeralStorage",
            "FunctionUrlConfig",
            "RuntimeManagementConfig",
            "LoggingConfig",
            "RecursiveLoop",
            "SourceKMSKeyArn",
        ]
    ),
    "Api": frozenset(
        [
            "Auth",
            "Name",
            "DefinitionUri",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "MergeDefinitions",
            "Variables",
            "EndpointConfiguration",
            "MethodSettings",
            "BinaryMediaTypes",
            "MinimumCompressionSize",
            "Cors",
            "GatewayResponses",
            "AccessLogSetting",
            "CanarySetting",
            "TracingEnabled",
            "OpenApiVersion",
            "Domain",
            "AlwaysDeploy",
            "PropagateTags",
        ]
    ),
    "HttpApi": frozenset(
        [
            "Auth",
            "AccessLogSettings",
            "StageVariables",
            "Tags",
            "CorsConfiguration",
            "DefaultRouteSettings",
            "Domain",
            "RouteSettings",
            "FailOnWarnings",
            "PropagateTags",
        ]
    ),
    "SimpleTable": frozenset({"SSESpecification"}),
    "StateMachine": frozenset({"PropagateTags"}),
    "LayerVersion": frozenset({"PublishLambdaVersion"}),
}

_PREFIX: Final = "AWS::Serverless::"


class SamGlobals:
    """A template's ``Globals`` section, validated, ready to merge into resources."""

    def __init__(self, section: Any) -> None:
        self._sections: dict[str, dict[str, Any]] = {}
        if section is None:
            return
        if not isinstance(section, dict):
            raise TemplateError("Globals must be a mapping", "Globals")
        for name, properties in section.items():
            self._sections[str(name)] = _validated_section(str(name), properties)

    def merge(self, logical_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """The resource's ``Properties`` with the globals for its type merged in."""
        properties = resource.get("Properties") or {}
        resource_type = str(resource.get("Type", ""))
        if not resource_type.startswith(_PREFIX):
            return dict(properties)
        global_properties = self._sections.get(resource_type.removeprefix(_PREFIX), {})
        global_properties = _without_ignored(global_properties, resource.get("IgnoreGlobals"), logical_id)
        merged = _merge(global_properties, properties)
        assert isinstance(merged, dict)
        return merged


def _validated_section(name: str, properties: Any) -> dict[str, Any]:
    at = f"Globals.{name}"
    if name not in _SUPPORTED:
        raise TemplateError(f"'{name}' is not supported; must be one of {sorted(_SUPPORTED)}", at)
    if not isinstance(properties, dict):
        raise TemplateError("must be a mapping", at)
    for key in properties:
        if key not in _SUPPORTED[name]:
            raise TemplateError(f"'{key}' is not a property SAM allows in Globals.{name}", f"{at}.{key}")
    return properties


def _without_ignored(global_properties: dict[str, Any], ignore: Any, logical_id: str) -> dict[str, Any]:
    """SAM's ``IgnoreGlobals``: ``"*"`` ignores every global, a list ignores the properties named."""
    if not ignore:
        return global_properties
    if ignore == "*":
        return {}
    at = f"Resources.{logical_id}.IgnoreGlobals"
    if not isinstance(ignore, list):
        raise TemplateError('IgnoreGlobals must be "*" or a list of property names', at)
    for key in ignore:
        if key not in global_properties:
            raise TemplateError(f"IgnoreGlobals names {key!r}, which Globals does not set", at)
    return {key: value for key, value in global_properties.items() if key not in ignore}


def _kind(value: Any) -> str:
    if isinstance(value, dict) and not is_intrinsic(value):
        return "dict"
    if isinstance(value, list):
        return "list"
    return "primitive"  # intrinsics count as primitives: they resolve to one


def _merge(global_value: Any, local_value: Any) -> Any:
    kind = _kind(global_value)
    if kind != _kind(local_value) or kind == "primitive":
        return local_value
    if kind == "list":
        return [*global_value, *local_value]
    merged = dict(global_value)
    for key, value in local_value.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    return merged
