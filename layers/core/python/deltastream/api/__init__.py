"""The REST API (API Gateway v1 proxy integrations): shared contracts for the auth, authorizer, data
and analytics functions.

- Errors: every error body is ``{"error": {"code": "...", "message": "..."}}`` (ARCHITECTURE §5),
  raised as :class:`deltastream.api.errors.ApiError` subclasses and mapped by each resolver.
- Tokens: access JWTs are HS256 (algorithm pinned, header ``kid``), claims ``iss="deltastream"``,
  ``aud="deltastream-api"``, ``sub`` (user id), ``email``, ``name``, ``typ="access"``, ``jti``, ``iat``,
  ``nbf``, ``exp``. The TOKEN authorizer passes ``{"userId", "email", "name"}`` as its context, which
  the functions read from ``requestContext.authorizer``.
- Redis keys: :mod:`deltastream.adapters.redis_keys` (``ds:auth:*``, ``ds:ratelimit:*``).
- Cold start: nothing here may import numpy, scipy or pandas (target ≤ 250 ms per function import).
"""
