"""Property-based, through the local gateway: every data and analytics operation of the OpenAPI
document the API itself publishes at /api/docs answers no 5xx and conforms to it (schemathesis over
HTTP, with a real token through the TOKEN authorizer)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import Api

PATHS = r"^/(health|api/(data|analytics)/)"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return str(api.register("schemathesis@example.com")["token"])


def test_the_gateway_conforms_to_the_openapi_it_publishes(api: Api, token: str) -> None:
    # (schemathesis' pytest fixture loader does not work with pytest 9: the operations are driven
    # through their hypothesis strategies here instead.)
    published = schemathesis.openapi.from_url(f"http://127.0.0.1:{api.port}/api/docs?format=json")
    operations = [result.ok() for result in published.include(path_regex=PATHS).get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: Any) -> None:
            response = case.call(
                base_url=f"http://127.0.0.1:{api.port}", headers={"Authorization": f"Bearer {token}"}
            )
            case.validate_response(response, checks=CHECKS)

        conforms()
