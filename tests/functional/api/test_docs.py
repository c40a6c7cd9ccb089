"""/api/docs: Swagger UI and the combined OpenAPI 3 document (auth, data and analytics routes)."""

from __future__ import annotations

from openapi_spec_validator import validate

from .conftest import Functions
from .gateway import invoke, proxy_event


def test_docs_json_is_a_valid_openapi_document_of_every_function(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/api/docs", {"format": "json"}, user=None))
    assert answer.status == 200
    document = answer.json()
    validate(document)
    paths = document["paths"]
    assert {"/health", "/api/data/chain/{product}", "/api/analytics/ohlc/{product}"} <= paths.keys()
    assert any(p.startswith("/api/auth/") for p in paths)  # the auth routes, once that module exists
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert paths["/api/data/chain/{product}"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/health"]["get"]
    assert document["servers"] == [{"url": "/prod"}]  # the stage the request came through
    names = {p["name"] for p in paths["/api/data/underlying/{product}"]["get"]["parameters"]}
    assert names == {"product", "limit", "from", "to"}


def test_docs_html_is_swagger_ui_with_the_document_inlined(functions: Functions) -> None:
    answer = invoke(functions.data, proxy_event("/api/docs", user=None))
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html"
    assert "SwaggerUIBundle" in answer.text
    assert '"/api/analytics/iv-rank/{product}"' in answer.text
