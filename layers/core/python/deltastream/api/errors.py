"""The API's errors: one exception per outcome, each with its status and the JSON shape of §5."""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """An error a client sees: ``{"error": {"code": ..., "message": ...}}`` with ``status``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class ValidationFailed(ApiError):
    status, code = 422, "validation_error"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(
            message, headers={"Retry-After": str(max(1, retry_after_s))}, retry_after_s=retry_after_s
        )


class ServiceUnavailable(ApiError):
    status, code = 503, "unavailable"
