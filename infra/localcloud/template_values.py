"""Typed reads of resolved template values, with CloudFormation's leniency.

CloudFormation accepts ``"30"`` where a number is expected (values from parameters are strings) and
``"true"`` where a boolean is; these helpers do the same and raise :class:`TemplateError` naming the
property path otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localcloud.intrinsics import TemplateError, scalar_to_str

__all__ = ["as_bool", "as_float", "as_int", "as_mapping", "as_str", "as_str_list", "optional"]


def optional(properties: Mapping[str, Any], key: str) -> Any:
    """``properties[key]``, or None when absent (``AWS::NoValue`` already removed it)."""
    return properties.get(key)


def as_str(value: Any, at: str) -> str:
    return scalar_to_str(value, at)


def as_int(value: Any, at: str, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high]; ``"30"`` is accepted as CloudFormation does."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise TemplateError(f"expected an integer, got {value!r}", at)
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except ValueError:
        number = None
    if number is None:
        raise TemplateError(f"expected an integer, got {value!r}", at)
    _check_range(number, at, low, high)
    return number


def as_float(value: Any, at: str, low: float | None = None, high: float | None = None) -> float:
    """A number within [low, high]; ``"1.5"`` is accepted."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise TemplateError(f"expected a number, got {value!r}", at)
    try:
        number = float(value)
    except ValueError:
        raise TemplateError(f"expected a number, got {value!r}", at) from None
    _check_range(number, at, low, high)
    return number


def _check_range(number: float, at: str, low: float | None, high: float | None) -> None:
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"between {low:g} and {high:g}" if low is not None and high is not None else ""
        bounds = bounds or (f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise TemplateError(f"must be {bounds}, got {number:g}", at)


def as_bool(value: Any, at: str) -> bool:
    """A boolean; the strings ``"true"``/``"false"`` (any case) are accepted."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TemplateError(f"expected a boolean, got {value!r}", at)


def as_mapping(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TemplateError(f"expected a mapping, got {value!r}", at)
    return value


def as_str_list(value: Any, at: str) -> list[str]:
    if not isinstance(value, list):
        raise TemplateError(f"expected a list, got {value!r}", at)
    return [scalar_to_str(item, f"{at}[{index}]") for index, item in enumerate(value)]
