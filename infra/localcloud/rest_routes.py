"""Route matching as API Gateway (REST v1) selects a resource, then a method on it.

A REST API is a tree of resources. At each level a static segment is preferred to a path parameter
(``{id}``), which is preferred to a greedy one (``{proxy+}``, matching one or more segments, so
``/{proxy+}`` does not match ``/``). Only resources with at least one method take part. Once the most
specific resource is found, the method is looked up on it (an exact method first, then ``ANY``); a
method the resource lacks is **not** passed on to a less specific resource — API Gateway answers
``403 {"message": "Missing Authentication Token"}``, for an unknown path as for an unknown method
(it never answers 404 or 405).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote

from localcloud.rest_config import ALL_METHODS, RouteConfig

__all__ = ["ResourceMatch", "RouteTable", "split_path"]

_PARAMETER: Final = re.compile(r"^\{(?P<name>[^{}+]+)(?P<greedy>\+?)\}$")


@dataclass(slots=True)
class _Node:
    """A resource: its static children, its (single) path-parameter child and greedy child."""

    path: str
    static: dict[str, _Node] = field(default_factory=dict)
    parameter: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    methods: dict[str, RouteConfig] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResourceMatch:
    """The resource a path selected, with its path parameters (decoded)."""

    resource: str  # the template: "/items/{id}"
    path_parameters: dict[str, str]
    methods: dict[str, RouteConfig]

    def route(self, method: str) -> RouteConfig | None:
        """The method integration for ``method``: the exact method first, then ANY."""
        return self.methods.get(method.upper()) or self.methods.get("ANY")

    def allowed_methods(self) -> list[str]:
        """What SAM puts in ``Access-Control-Allow-Methods`` when ``AllowMethods`` is not given: the
        resource's methods plus OPTIONS, sorted (``ANY`` stands for all methods)."""
        methods = set(ALL_METHODS) if "ANY" in self.methods else {*self.methods, "OPTIONS"}
        return sorted(methods)


def split_path(path: str) -> list[str]:
    """Path segments, percent-decoded one by one (an encoded ``/`` stays inside its segment)."""
    return [unquote(segment) for segment in path.split("/") if segment]


class RouteTable:
    """The resources of one REST API; ``match`` is thread-safe (the tree is read-only once built)."""

    def __init__(self, routes: Iterable[RouteConfig]) -> None:
        self._root = _Node("/")
        self.conflicts: list[str] = []
        for route in routes:
            self._add(route)

    def _add(self, route: RouteConfig) -> None:
        node = self._root
        for segment in (s for s in route.path.split("/") if s):
            node = self._child(node, segment, route.path)
        if route.method in node.methods:
            self.conflicts.append(
                f"{route.method} {route.path}: {route.event} and {node.methods[route.method].event}"
            )
            return
        node.methods[route.method] = route

    @staticmethod
    def _child(node: _Node, segment: str, path: str) -> _Node:
        child_path = f"{node.path.rstrip('/')}/{segment}"
        parameter = _PARAMETER.match(segment)
        if parameter is None:
            return node.static.setdefault(segment, _Node(child_path))
        name = parameter.group("name")
        slot = node.greedy if parameter.group("greedy") else node.parameter
        if slot is not None and slot[0] != name:
            # API Gateway refuses sibling variables with different names; SAM's deploy would fail.
            raise ValueError(f"{path}: {{{name}}} conflicts with {{{slot[0]}}} at {node.path}")
        if slot is None:
            slot = (name, _Node(child_path))
            if parameter.group("greedy"):
                node.greedy = slot
            else:
                node.parameter = slot
        return slot[1]

    def match(self, path: str) -> ResourceMatch | None:
        """The most specific resource with methods matching ``path`` (query string excluded)."""
        found = self._match(self._root, split_path(path), {})
        if found is None:
            return None
        node, parameters = found
        return ResourceMatch(node.path, parameters, node.methods)

    def _match(
        self, node: _Node, segments: list[str], parameters: dict[str, str]
    ) -> tuple[_Node, dict[str, str]] | None:
        if not segments:
            return (node, parameters) if node.methods else None
        head, rest = segments[0], segments[1:]
        child = node.static.get(head)
        if child is not None and (found := self._match(child, rest, parameters)) is not None:
            return found
        if node.parameter is not None:
            name, child = node.parameter
            if (found := self._match(child, rest, {**parameters, name: head})) is not None:
                return found
        if node.greedy is not None and node.greedy[1].methods:
            name, child = node.greedy
            return child, {**parameters, name: "/".join(segments)}
        return None
