"""Resource selection as API Gateway (REST) does it: static, then {param}, then {greedy+}."""

from __future__ import annotations

import pytest

from localcloud.rest_config import RouteConfig
from localcloud.rest_routes import RouteTable


def table(*routes: str) -> RouteTable:
    """Routes written "METHOD /path"; the function id is the route itself."""
    return RouteTable(RouteConfig(r.split()[1], r.split()[0], r, None, r) for r in routes)


ROUTES = table(
    "GET /items",
    "GET /items/{id}",
    "GET /items/special",
    "POST /items/{id}/tags",
    "ANY /files/{proxy+}",
    "GET /files/readme",
    "GET /{proxy+}",
)


@pytest.mark.parametrize(
    ("path", "resource", "parameters"),
    [
        ("/items", "/items", {}),
        ("/items/", "/items", {}),  # a trailing slash selects the same resource
        ("/items/special", "/items/special", {}),  # static before parameter
        ("/items/42", "/items/{id}", {"id": "42"}),
        ("/items/a%20b", "/items/{id}", {"id": "a b"}),  # parameters are percent-decoded
        ("/items/42/tags", "/items/{id}/tags", {"id": "42"}),
        ("/files/readme", "/files/readme", {}),  # static before greedy
        ("/files/a/b/c.txt", "/files/{proxy+}", {"proxy": "a/b/c.txt"}),  # no leading slash
        ("/files/x", "/files/{proxy+}", {"proxy": "x"}),
        ("/items/42/other", "/{proxy+}", {"proxy": "items/42/other"}),  # backtracks to the root greedy
        ("/anything", "/{proxy+}", {"proxy": "anything"}),
    ],
)
def test_most_specific_resource_wins(path: str, resource: str, parameters: dict[str, str]) -> None:
    # WHEN a path is matched
    match = ROUTES.match(path)
    # THEN the most specific resource is selected, with its path parameters
    assert match is not None
    assert (match.resource, match.path_parameters) == (resource, parameters)


def test_greedy_parameter_needs_at_least_one_segment() -> None:
    # GIVEN only a root greedy resource (API Gateway does not route "/" to "/{proxy+}")
    routes = table("ANY /{proxy+}")
    # THEN "/" matches nothing
    assert routes.match("/") is None
    assert routes.match("/x") is not None


def test_method_is_looked_up_on_the_selected_resource_only() -> None:
    # GIVEN GET /items/{id} and a root greedy GET
    match = ROUTES.match("/items/7")
    assert match is not None
    # THEN POST is not passed on to the less specific /{proxy+}: API Gateway answers 403 for it
    assert match.route("POST") is None
    assert match.route("get") is not None


def test_exact_method_wins_over_any() -> None:
    routes = table("ANY /x", "GET /x")
    match = routes.match("/x")
    assert match is not None
    get, post = match.route("GET"), match.route("POST")
    assert get is not None
    assert get.function_id == "GET /x"
    assert post is not None
    assert post.function_id == "ANY /x"


def test_resources_without_methods_do_not_match() -> None:
    # GIVEN /a/b/c only (so /a and /a/b are bare intermediate resources) and a root greedy
    routes = table("GET /a/b/c", "GET /{proxy+}")
    match = routes.match("/a/b")
    # THEN /a/b falls through to the greedy resource
    assert match is not None
    assert match.resource == "/{proxy+}"


def test_unknown_path_matches_nothing() -> None:
    assert table("GET /a").match("/b") is None


def test_root_resource() -> None:
    match = table("GET /").match("/")
    assert match is not None
    assert match.resource == "/"


def test_duplicate_methods_are_reported() -> None:
    routes = table("GET /a", "GET /a")
    assert len(routes.conflicts) == 1


def test_sibling_parameters_with_different_names_are_refused() -> None:
    with pytest.raises(ValueError, match="conflicts"):
        table("GET /a/{id}", "GET /a/{name}/x")


def test_allowed_methods_for_cors_are_the_resource_methods_plus_options() -> None:
    match = table("GET /a", "POST /a").match("/a")
    assert match is not None
    assert match.allowed_methods() == ["GET", "OPTIONS", "POST"]
    any_match = table("ANY /b").match("/b")
    assert any_match is not None
    assert any_match.allowed_methods() == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
