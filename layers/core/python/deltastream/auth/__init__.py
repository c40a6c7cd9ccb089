"""Authentication: accounts, passwords, tokens and the limits on guessing (ARCHITECTURE §5).

One module per job, so a reader (or a security reviewer) finds each decision in one place:

- :mod:`.passwords` — the password policy and argon2id hashing;
- :mod:`.users` — accounts in MongoDB (``users``: unique, normalised email);
- :mod:`.tokens` — access JWTs (HS256, pinned) and opaque refresh tokens;
- :mod:`.secrets` — where the JWT signing secret comes from (env or Secrets Manager);
- :mod:`.ports` — the stores the use cases need, as protocols; :mod:`.redis_store` implements them on
  Redis, :mod:`.memory` in memory (tests);
- :mod:`.ratelimit` — failed-login throttling per email and per source IP;
- :mod:`.service` — the use cases (register, login, refresh, logout, verify).

The TOKEN authorizer imports :mod:`.tokens`, :mod:`.secrets` and :mod:`.redis_store` only: those
modules must stay free of pydantic, pymongo, argon2 and Powertools (cold start, see its app.py).
"""
