"""AuthFunction's real handler with API Gateway proxy events, on a real Redis and mongomock."""

from __future__ import annotations

from types import ModuleType

import pytest
import redis

from deltastream.adapters import redis_keys
from tests.functional.auth.conftest import ORIGIN, authorizer_event, call, proxy_event

EMAIL, PASSWORD = "ada@example.com", "analytical-engine-1843"


def register(app: ModuleType, email: str = EMAIL) -> dict[str, object]:
    status, body, _ = call(
        app, proxy_event("/api/auth/register", {"email": email, "password": PASSWORD, "name": "Ada"})
    )
    assert status == 201, body
    return body


def test_the_whole_session_lifecycle(
    auth_app: ModuleType, authorizer_app: ModuleType, redis_client: redis.Redis
) -> None:
    # GIVEN a registered user
    registered = register(auth_app)
    assert set(registered) == {"token", "refresh_token", "expires_in", "user"}
    assert registered["expires_in"] == 900
    assert registered["user"] == {"id": registered["user"]["id"], "email": EMAIL, "name": "Ada"}  # type: ignore[index]

    # WHEN they log in (email in another case), THEN they get a session
    status, login, headers = call(
        auth_app, proxy_event("/api/auth/login", {"email": "ADA@example.com", "password": PASSWORD})
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ORIGIN

    # AND the access token verifies (Bearer or body)
    status, verified, _ = call(auth_app, proxy_event("/api/auth/verify", token=login["token"]))
    assert status == 200
    assert verified["valid"] is True
    assert verified["user"] == login["user"]
    assert verified["expires_at"].endswith("Z") or "+00:00" in verified["expires_at"]
    assert call(auth_app, proxy_event("/api/auth/verify", {"token": login["token"]}))[0] == 200

    # AND refresh rotates the refresh token
    status, refreshed, _ = call(
        auth_app, proxy_event("/api/auth/refresh", {"refresh_token": login["refresh_token"]})
    )
    assert status == 200
    assert refreshed["refresh_token"] != login["refresh_token"]
    assert not any(
        login["refresh_token"].encode() in key for key in redis_client.keys("ds:auth:*")
    )  # only hashes

    # WHEN the old refresh token is replayed THEN 401 and the rotated one is dead too (family revoked)
    status, replay, _ = call(
        auth_app, proxy_event("/api/auth/refresh", {"refresh_token": login["refresh_token"]})
    )
    assert status == 401
    assert replay["error"]["code"] == "unauthorized"
    assert (
        call(auth_app, proxy_event("/api/auth/refresh", {"refresh_token": refreshed["refresh_token"]}))[0]
        == 401
    )

    # WHEN a new session logs out with its access token
    status, session, _ = call(
        auth_app, proxy_event("/api/auth/login", {"email": EMAIL, "password": PASSWORD})
    )
    assert (
        authorizer_app.handler(authorizer_event(session["token"]), None)["principalId"]
        == session["user"]["id"]
    )
    status, _, _ = call(
        auth_app,
        proxy_event("/api/auth/logout", {"refresh_token": session["refresh_token"]}, token=session["token"]),
    )
    assert status == 204

    # THEN the refresh token is dead, the access token fails verify and the authorizer
    assert (
        call(auth_app, proxy_event("/api/auth/refresh", {"refresh_token": session["refresh_token"]}))[0]
        == 401
    )
    assert call(auth_app, proxy_event("/api/auth/verify", token=session["token"]))[0] == 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_app.handler(authorizer_event(session["token"]), None)
    jti_keys = redis_client.keys(redis_keys.revoked_access("*"))
    assert len(jti_keys) == 1
    assert 0 < redis_client.ttl(jti_keys[0]) <= 900


def test_registering_an_email_twice_is_a_409(auth_app: ModuleType) -> None:
    register(auth_app)
    status, body, _ = call(
        auth_app, proxy_event("/api/auth/register", {"email": " Ada@Example.com", "password": PASSWORD})
    )
    assert status == 409
    assert body == {
        "error": {
            "code": "conflict",
            "message": "an account with this email already exists",
            "details": {"field": "email"},
        }
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/register", {"email": "nope", "password": PASSWORD}, "email"),
        ("/api/auth/register", {"email": EMAIL, "password": "short"}, "password"),
        ("/api/auth/register", {"password": PASSWORD}, "email"),
        ("/api/auth/register", {"email": EMAIL, "password": 12345}, "password"),
        ("/api/auth/register", "{not json", "body"),
        ("/api/auth/register", "[]", "body"),
        ("/api/auth/register", None, "body"),
        ("/api/auth/login", {"email": EMAIL}, "password"),
        ("/api/auth/refresh", {}, "refresh_token"),
        ("/api/auth/logout", {"refresh_token": ""}, "refresh_token"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    auth_app: ModuleType, path: str, body: object, field: str
) -> None:
    status, answer, _ = call(auth_app, proxy_event(path, body))
    assert status == 422
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["details"]["field"] == field
    assert field in answer["error"]["message"] or field == "body"


def test_a_form_body_is_a_4xx_not_a_5xx(auth_app: ModuleType) -> None:
    event = proxy_event("/api/auth/login", "email=a", headers={"Content-Type": "text/plain"})
    status, body, _ = call(auth_app, event)
    assert status == 415
    assert body["error"]["code"] == "unsupported_media_type"


def test_six_bad_logins_are_throttled_with_retry_after(auth_app: ModuleType) -> None:
    register(auth_app)
    wrong = {"email": EMAIL, "password": "wrong-password-1"}
    statuses = [call(auth_app, proxy_event("/api/auth/login", wrong))[0] for _ in range(5)]
    status, body, headers = call(
        auth_app, proxy_event("/api/auth/login", {"email": EMAIL, "password": PASSWORD})
    )
    assert statuses == [401] * 5
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert 0 < int(headers["Retry-After"]) <= redis_keys.LOGIN_FAILURE_WINDOW_S


def test_an_unknown_email_and_a_wrong_password_answer_alike(auth_app: ModuleType) -> None:
    register(auth_app)
    unknown = call(
        auth_app, proxy_event("/api/auth/login", {"email": "bob@example.com", "password": PASSWORD})
    )
    wrong = call(auth_app, proxy_event("/api/auth/login", {"email": EMAIL, "password": "wrong-password-1"}))
    assert (
        unknown[:2]
        == wrong[:2]
        == (401, {"error": {"code": "unauthorized", "message": "invalid email or password"}})
    )


def test_an_unknown_route_is_a_404_in_the_error_shape(auth_app: ModuleType) -> None:
    status, body, _ = call(auth_app, proxy_event("/api/auth/nothing", {}))
    assert status == 404
    assert body["error"]["code"] == "not_found"
