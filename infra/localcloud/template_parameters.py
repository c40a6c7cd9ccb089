"""A template's ``Parameters``: values from overrides or defaults, validated as CloudFormation does.

CloudFormation keeps every value as a string (``Number`` too); ``CommaDelimitedList`` and ``List<...>``
parameters are lists when referenced. ``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength``
and ``MinValue``/``MaxValue`` are checked; a parameter with neither a value nor a ``Default`` is an
error, and so is an override for a parameter the template does not declare.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud.intrinsics import TemplateError, scalar_to_str

__all__ = ["ParameterValue", "parameter_values"]

_log = logging.getLogger("localcloud")


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """A parameter's value as given (``text``) and as ``Ref`` returns it (a string or a list)."""

    text: str
    value: str | list[str]


def parameter_values(declared: Any, overrides: Mapping[str, str]) -> dict[str, ParameterValue]:
    """Every declared parameter's value: the override, else the ``Default``."""
    declared = declared or {}
    if not isinstance(declared, dict):
        raise TemplateError("must be a mapping", "Parameters")
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(
            f"overrides for parameters the template does not declare: {unknown}", "Parameters"
        )
    return {
        str(name): _value(str(name), declaration, overrides.get(str(name)))
        for name, declaration in declared.items()
    }


def _value(name: str, declaration: Any, override: str | None) -> ParameterValue:
    at = f"Parameters.{name}"
    if not isinstance(declaration, dict) or not isinstance(declaration.get("Type"), str):
        raise TemplateError("a parameter needs a Type", at)
    raw = override if override is not None else declaration.get("Default")
    if raw is None:
        raise TemplateError(f"parameter {name} has no value: give it a Default or an override", at)
    text = (
        ",".join(scalar_to_str(item, at) for item in raw) if isinstance(raw, list) else scalar_to_str(raw, at)
    )
    parameter_type: str = declaration["Type"]
    if _is_list_type(parameter_type):
        items = text.split(",") if text else []
        for item in items:
            _check(item, declaration, _item_type(parameter_type), name, at)
        return ParameterValue(text, items)
    if parameter_type.startswith("AWS::SSM::Parameter::Value<"):
        _log.warning("%s: SSM parameter types are not looked up locally; using %r as the value", at, text)
    _check(text, declaration, parameter_type, name, at)
    return ParameterValue(text, text)


def _is_list_type(parameter_type: str) -> bool:
    return parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<")


def _item_type(parameter_type: str) -> str:
    return "Number" if parameter_type == "List<Number>" else "String"


def _check(value: str, declaration: Mapping[str, Any], value_type: str, name: str, at: str) -> None:
    allowed = declaration.get("AllowedValues")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise TemplateError("AllowedValues must be a list", f"{at}.AllowedValues")
        allowed_text = [scalar_to_str(item, f"{at}.AllowedValues") for item in allowed]
        if value not in allowed_text:
            raise TemplateError(
                f"parameter {name}: {value!r} is not one of the AllowedValues {allowed_text}", at
            )
    if value_type == "Number":
        _check_number(value, declaration, name, at)
    else:
        _check_string(value, declaration, name, at)


def _check_number(value: str, declaration: Mapping[str, Any], name: str, at: str) -> None:
    try:
        number = float(value)
    except ValueError:
        raise TemplateError(f"parameter {name}: {value!r} is not a Number", at) from None
    low, high = declaration.get("MinValue"), declaration.get("MaxValue")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise TemplateError(
            f"parameter {name}: {value} is outside [MinValue, MaxValue] = [{low}, {high}]", at
        )


def _check_string(value: str, declaration: Mapping[str, Any], name: str, at: str) -> None:
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), value) is None:
        description = declaration.get("ConstraintDescription") or f"it must match {pattern}"
        raise TemplateError(f"parameter {name}: {value!r} is not allowed: {description}", at)
    low, high = declaration.get("MinLength"), declaration.get("MaxLength")
    if (low is not None and len(value) < int(low)) or (high is not None and len(value) > int(high)):
        raise TemplateError(f"parameter {name}: length {len(value)} is outside [{low}, {high}]", at)
