"""The @connections API without sockets: path parsing (stage, percent-encoding), 410/413, GET/DELETE."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from localcloud.ws_config import WebSocketApiConfig
from localcloud.ws_connections import ConnectionRegistry
from localcloud.ws_events import ConnectionInfo
from localcloud.ws_management import Delete, Post, handle_management, parse_management_path

API = WebSocketApiConfig("WsApi", "abc123", "dev", "us-east-1", "123456789012")
CONNECTED = datetime(2024, 2, 9, 18, 11, 43, 419000, tzinfo=UTC)


@pytest.fixture
def registry() -> ConnectionRegistry[str]:
    registry: ConnectionRegistry[str] = ConnectionRegistry()
    info = ConnectionInfo(
        "Kz5y/0cIMoAMCF-w=", API, CONNECTED, "10.0.0.1", (("User-Agent", "ua/1"),), "", None, CONNECTED
    )
    registry.add(info, "transport-1")
    return registry


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/@connections/abc=", "abc="),
        ("/dev/@connections/abc%3D", "abc="),
        ("/dev/@connections/Kz5y%2F0cIMoAMCF-w%3D", "Kz5y/0cIMoAMCF-w="),
        ("/@connections/abc%3D?x=1", "abc="),
        ("/prod/@connections/abc", None),  # not a stage of the API
        ("/@connections/", None),
        ("/dev", None),
        ("/dev/@connections/a/b", None),
    ],
)
def test_parse_management_path(path: str, expected: str | None) -> None:
    assert parse_management_path(path, {"dev"}) == expected


def test_post_to_an_open_connection_is_handed_to_the_transport(registry: ConnectionRegistry[str]) -> None:
    response, action = handle_management(
        registry, "POST", "/dev/@connections/Kz5y%2F0cIMoAMCF-w%3D", b"hi", {"dev"}
    )

    assert response.status == 200
    assert action == Post("Kz5y/0cIMoAMCF-w=", "transport-1", b"hi")
    assert registry.posts == 1


def test_unknown_connection_is_410_gone(registry: ConnectionRegistry[str]) -> None:
    response, action = handle_management(registry, "POST", "/@connections/nope%3D", b"hi", {"dev"})

    assert (response.status, action) == (410, None)
    assert ("x-amzn-ErrorType", "GoneException") in response.headers
    assert registry.gone == 1


def test_data_over_128_kb_is_413(registry: ConnectionRegistry[str]) -> None:
    response, action = handle_management(
        registry, "POST", "/@connections/Kz5y%2F0cIMoAMCF-w%3D", b"x" * (128 * 1024 + 1), {"dev"}
    )

    assert (response.status, action) == (413, None)
    assert ("x-amzn-ErrorType", "PayloadTooLargeException") in response.headers


def test_get_connection_document_uses_the_wire_names(registry: ConnectionRegistry[str]) -> None:
    response, action = handle_management(registry, "GET", "/@connections/Kz5y%2F0cIMoAMCF-w%3D", b"", {"dev"})

    assert (response.status, action) == (200, None)
    assert json.loads(response.body) == {
        "connectedAt": "2024-02-09T18:11:43.419Z",
        "identity": {"sourceIp": "10.0.0.1", "userAgent": "ua/1"},
        "lastActiveAt": "2024-02-09T18:11:43.419Z",
    }


def test_delete_closes_through_the_transport(registry: ConnectionRegistry[str]) -> None:
    response, action = handle_management(
        registry, "DELETE", "/dev/@connections/Kz5y%2F0cIMoAMCF-w%3D", b"", {"dev"}
    )

    assert (response.status, action) == (204, Delete("Kz5y/0cIMoAMCF-w=", "transport-1"))


def test_other_paths_and_methods(registry: ConnectionRegistry[str]) -> None:
    assert handle_management(registry, "GET", "/", b"", {"dev"})[0].status == 404
    assert handle_management(registry, "PUT", "/@connections/x", b"", {"dev"})[0].status == 405
