"""The REST API as a client sees it: the local gateway on template.yaml, the TOKEN authorizer, real
Redis, the embedded MongoDB stand-in, and data produced by the pipeline (the test puts market records
on the ticks stream; the enrichment stores them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from .conftest import SECRET, Api

# --- auth flows ----------------------------------------------------------------------------------------


def test_register_login_refresh_logout(api: Api) -> None:
    registered = api.register("Flow.User@Example.com")
    assert registered["user"]["email"] == "flow.user@example.com"
    assert registered["expires_in"] > 0
    status, _, login = api.call(
        "POST", "/api/auth/login", {"email": "flow.user@example.com", "password": "correct-Horse-42"}
    )
    assert status == 200
    status, _, verified = api.call("POST", "/api/auth/verify", token=login["token"])
    assert status == 200
    assert verified["valid"] is True
    # refresh rotates: the new refresh token works, the old one is now a theft signal
    status, _, refreshed = api.call("POST", "/api/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert status == 200
    assert refreshed["refresh_token"] != login["refresh_token"]
    status, _, _ = api.call("POST", "/api/auth/refresh", {"refresh_token": login["refresh_token"]})
    assert status == 401
    # logout revokes the access token: protected routes refuse it (authorizer cache aside: a new token)
    status, _, fresh = api.call(
        "POST", "/api/auth/login", {"email": "flow.user@example.com", "password": "correct-Horse-42"}
    )
    status, _, _ = api.call(
        "POST", "/api/auth/logout", {"refresh_token": fresh["refresh_token"]}, token=fresh["token"]
    )
    assert status in (200, 204)
    status, _, _ = api.call("GET", "/api/data/products", token=fresh["token"])
    assert status in (401, 403)


def test_a_duplicate_email_and_bad_input_are_client_errors(api: Api) -> None:
    api.register("dup@example.com")
    status, _, body = api.call(
        "POST", "/api/auth/register", {"email": "DUP@example.com", "password": "correct-Horse-42"}
    )
    assert status == 409
    assert body["error"]["code"]
    status, _, body = api.call(
        "POST", "/api/auth/register", {"email": "not-an-email", "password": "correct-Horse-42"}
    )
    assert status in (400, 422)
    assert "email" in json.dumps(body)


def _forge(claims: dict[str, Any], *, key: bytes, alg: str = "HS256") -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    head = part({"alg": alg, "typ": "JWT"})
    body = part(claims)
    signature = b"" if alg == "none" else hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_every_token_attack_is_unauthorized(api: Api) -> None:
    token = api.register("attacked@example.com")["token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    now = int(time.time())
    tampered = _forge({**claims, "sub": "admin"}, key=b"x").split(".")[1]
    attacks = {
        "no token": None,
        "garbage": "not.a.jwt",
        "alg none": _forge(claims, key=b"", alg="none"),
        "wrong key": _forge(claims, key=b"some-other-secret-of-sufficient-length!!"),
        "tampered payload": f"{header}.{tampered}.{signature}",
        "expired": _forge(
            {**claims, "exp": now - 60, "iat": now - 3600, "nbf": now - 3600}, key=SECRET.encode()
        ),
        "not yet valid": _forge({**claims, "nbf": now + 3600, "exp": now + 7200}, key=SECRET.encode()),
    }
    for name, attack in attacks.items():
        status, _, _ = api.call("GET", "/api/data/products", token=attack)
        assert status == 401, name


def test_failed_logins_are_rate_limited_with_retry_after(api: Api) -> None:
    api.register("victim@example.com")
    statuses = [
        api.call("POST", "/api/auth/login", {"email": "victim@example.com", "password": "wrong-Password-1"})[
            0
        ]
        for _ in range(8)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    status, headers, _ = api.call(
        "POST", "/api/auth/login", {"email": "victim@example.com", "password": "wrong-Password-1"}
    )
    assert status == 429
    assert int(headers["retry-after"]) > 0


# --- data and analytics ----------------------------------------------------------------------------------


def test_every_endpoint_answers_with_data_from_the_pipeline(api: Api) -> None:
    token = api.register("reader@example.com")["token"]
    paths = [
        "/api/data/products",
        "/api/data/underlying/NIFTY?limit=3",
        "/api/data/chain/NIFTY",
        "/api/data/expiries/NIFTY",
        "/api/analytics/pcr/NIFTY",
        "/api/analytics/pcr/NIFTY?history=true",
        "/api/analytics/max-pain/NIFTY",
        "/api/analytics/volatility-surface/NIFTY",
        "/api/analytics/oi-buildup/NIFTY",
        "/api/analytics/ohlc/NIFTY?window=1",
        "/api/analytics/iv-rank/NIFTY",
    ]
    for path in paths:
        status, _, body = api.call("GET", path, token=token)
        assert status == 200, (path, body)
    status, _, chain = api.call("GET", "/api/data/chain/NIFTY", token=token)
    assert json.dumps(chain).count("delta") > 10  # enriched quotes


def test_bad_input_is_a_4xx_in_the_error_shape_never_a_5xx(api: Api) -> None:
    token = api.register("clumsy@example.com")["token"]
    for path, expected in [
        ("/api/data/chain/XYZ", 404),
        ("/api/data/underlying/NIFTY?limit=0", 422),
        ("/api/data/underlying/NIFTY?limit=abc", 422),
        ("/api/analytics/ohlc/NIFTY?window=7", 422),
    ]:
        status, _, body = api.call("GET", path, token=token)
        assert status == expected, (path, body)
        assert set(body["error"]) >= {"code", "message"}


def test_health_docs_and_cors_preflight_are_public(api: Api) -> None:
    assert api.call("GET", "/health")[0] == 200
    status, _, spec = api.call("GET", "/api/docs?format=json")
    assert status == 200
    assert spec["openapi"].startswith("3.")
    assert any(path.startswith("/api/auth/") for path in spec["paths"])
    status, headers, _ = api.call(
        "OPTIONS",
        "/api/data/products",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == "http://localhost:5173"
