"""Every Redis key DeltaStream uses, in one place: its name, type, TTL, writer and readers.

Why one module: keys are a contract between functions deployed separately (the feed writes what the
enrichment reads, the enrichment writes what the REST and WebSocket functions read). A key spelled in
two places drifts; a key built here cannot. Names are stable — renaming one orphans live data and
breaks a rolling deploy — so a unit test pins them.

All keys start with ``ds:`` so the application can share a Redis (or ElastiCache) with others and an
operator can ``SCAN MATCH ds:*``. ``{product}`` is the upper-case product symbol, ``{expiry}`` an ISO
date (``YYYY-MM-DD``). Values are UTF-8 JSON unless said otherwise.

=====================================  ======  =========  ============  ===============================
key                                    type    TTL        writer        readers
=====================================  ======  =========  ============  ===============================
ds:feed:tick_id:{product}              string  none       feed (INCR)   feed
ds:feed:state:{product}                string  7 days     feed          feed
ds:feed:lease                          string  the lease  feed (SET NX  feed
                                                          PX)
ds:latest:underlying:{product}         string  1 day      enrich        data, ws (on subscribe), ai
ds:latest:chain:{product}:{expiry}     string  1 day      enrich        data, analytics, ws
ds:latest:summary:{product}            string  1 day      enrich        data, ws (on subscribe), ai
ds:expiries:{product}                  zset    1 day      enrich        data
ds:bars:{product}:{window}             string  1 day      enrich        enrich, analytics
ds:iv_history:{product}                zset    30 days    enrich        enrich (IV rank), analytics
ds:surface:{product}                   string  1 day      enrich        analytics
ds:seen:{product}:{type}:{expiry|-}    string  1 day      enrich        enrich
ds:auth:refresh:{token_id}             hash    refresh    auth          auth
ds:auth:rotated:{token_id}             string  refresh    auth          auth
ds:auth:family:{family}                set     refresh    auth          auth
ds:auth:revoked:{jti}                  string  access     auth          auth, authorizer
ds:auth:fail:email:{email}             string  15 min     auth          auth
ds:auth:fail:ip:{ip}                   string  15 min     auth          auth
ds:ratelimit:{user_id}                 hash    minutes    data, ...     data, analytics
ds:ws:conn:{connection_id}             hash    2 h        ws            ws, fanout
ds:ws:room:{room}                      set     2 h        ws            fanout, ws
ds:ws:user:{user_id}                   set     2 h        ws            (order updates)
=====================================  ======  =========  ============  ===============================

- ``ds:feed:tick_id``: a counter (INCRBY), never expires — tick ids must stay monotonic per product for
  as long as history keyed on them exists.
- ``ds:feed:lease``: the owner id of the one feed invocation allowed to drive the market; overlapping
  schedule invocations would otherwise emit two diverging markets.
- ``ds:expiries``: member = expiry ISO date, score = the epoch seconds of that date (00:00 UTC), so
  ``ZRANGEBYSCORE`` lists upcoming expiries in order and past ones are trimmed by score.
- ``ds:bars``: the current (still open) OHLC bar of a window in minutes, one of :data:`BAR_WINDOWS`.
- ``ds:iv_history``: member = JSON ``{"ts", "tick_id", "atm_iv"}``, score = tick_id (replays re-add the
  same member: a no-op); trimmed to the newest :data:`IV_HISTORY_MAX` members.
- ``ds:auth:*``: ``{token_id}`` is the SHA-256 (hex) of a refresh token — the token itself is never
  stored; "refresh" / "access" TTLs are the remaining lifetime of that token (see
  :mod:`deltastream.auth.redis_store`, which writes them with Lua scripts so rotation is atomic).
- ``ds:seen``: the newest tick_id applied to the latest-state keys of that record stream, so a replayed
  or late record never overwrites newer state. ``{type}`` is the record type (``underlying`` or
  ``chain``); ``-`` stands for "no expiry", as in :func:`deltastream.records.idempotency_key`.
- ``ds:ws:*``: the WebSocket connection registry (:mod:`deltastream.ws.registry`). A connection hash
  holds ``user_id``, ``email``, ``connected_at`` and one ``room:{room}`` field per room joined, so a
  disconnect knows which room sets to leave. 2 h is API Gateway's maximum connection duration: any
  connection registered or room joined longer ago than that is closed, so the TTLs (refreshed on every
  join) only ever expire dead entries that a missed ``$disconnect`` left behind. Fan-out also removes a
  connection whose post answers 410 Gone. ``{room}`` is ``general``, ``product:SYM``, ``chain:SYM`` or
  ``user:ID``.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "ds"

DAY_S: Final = 24 * 60 * 60
FEED_STATE_TTL_S: Final = 7 * DAY_S
LATEST_TTL_S: Final = DAY_S  # every ds:latest:*, ds:expiries, ds:bars, ds:surface, ds:seen key
IV_HISTORY_TTL_S: Final = 30 * DAY_S
IV_HISTORY_MAX: Final = 10_000
BAR_WINDOWS: Final = (1, 5, 15)  # minutes

# --- feed ------------------------------------------------------------------------------------------

FEED_LEASE: Final = f"{PREFIX}:feed:lease"


def feed_tick_id(product: str) -> str:
    """Counter of the last tick id handed out for ``product`` (INCRBY; no TTL)."""
    return f"{PREFIX}:feed:tick_id:{product}"


def feed_state(product: str) -> str:
    """The feed's simulation state of ``product`` (JSON; TTL :data:`FEED_STATE_TTL_S`)."""
    return f"{PREFIX}:feed:state:{product}"


# --- enrichment: latest state ----------------------------------------------------------------------


def latest_underlying(product: str) -> str:
    """The newest enriched underlying record of ``product`` (JSON; TTL :data:`LATEST_TTL_S`)."""
    return f"{PREFIX}:latest:underlying:{product}"


def latest_chain(product: str, expiry: str) -> str:
    """The newest enriched chain of ``product`` for ``expiry`` (JSON; TTL :data:`LATEST_TTL_S`)."""
    return f"{PREFIX}:latest:chain:{product}:{expiry}"


def latest_summary(product: str) -> str:
    """Summary of the nearest expiry's newest chain (JSON; TTL :data:`LATEST_TTL_S`)."""
    return f"{PREFIX}:latest:summary:{product}"


def expiries(product: str) -> str:
    """ZSET of the expiries seen for ``product``: ISO date → epoch seconds (TTL :data:`LATEST_TTL_S`)."""
    return f"{PREFIX}:expiries:{product}"


def bars(product: str, window: int) -> str:
    """The open OHLC bar of ``window`` minutes (JSON; TTL :data:`LATEST_TTL_S`).

    Raises ValueError for a window outside :data:`BAR_WINDOWS`: a typo would otherwise write a key
    nobody reads.
    """
    if window not in BAR_WINDOWS:
        raise ValueError(f"bar window must be one of {BAR_WINDOWS} minutes, got {window!r}")
    return f"{PREFIX}:bars:{product}:{window}"


def iv_history(product: str) -> str:
    """ZSET of ATM IV observations, score = tick_id (capped at :data:`IV_HISTORY_MAX`; TTL 30 days)."""
    return f"{PREFIX}:iv_history:{product}"


def surface(product: str) -> str:
    """The latest volatility surface of ``product`` (JSON; TTL :data:`LATEST_TTL_S`)."""
    return f"{PREFIX}:surface:{product}"


def seen(product: str, record_type: str, expiry: str | None = None) -> str:
    """The newest tick_id applied to the latest-state keys for this record stream (TTL 1 day)."""
    return f"{PREFIX}:seen:{product}:{record_type}:{expiry or '-'}"


# --- auth (writer: AuthFunction; reader: AuthFunction) -----------------------------------------------

LOGIN_FAILURE_WINDOW_S: Final = 15 * 60  # failed logins are counted over this window


def refresh_token(token_id: str) -> str:
    """A live refresh token (hash: user_id, family, expires_at; TTL = the token's lifetime). Rotation
    deletes it and leaves a :func:`refresh_rotated` tombstone; presenting it again revokes its whole
    family."""
    return f"{PREFIX}:auth:refresh:{token_id}"


def refresh_rotated(token_id: str) -> str:
    """The tombstone of a rotated refresh token (value: its family; TTL = the rest of the token's
    lifetime): presenting that token again is replay, and revokes the family (token theft)."""
    return f"{PREFIX}:auth:rotated:{token_id}"


def refresh_family(family: str) -> str:
    """SET of the refresh-token ids of one login session (TTL = refresh lifetime), for revocation."""
    return f"{PREFIX}:auth:family:{family}"


def revoked_access(token_id: str) -> str:
    """An access token revoked by logout before it expires (value 1; TTL = its remaining life)."""
    return f"{PREFIX}:auth:revoked:{token_id}"


def login_failures_email(email: str) -> str:
    """Failed logins for a (normalised) email (INCR; TTL :data:`LOGIN_FAILURE_WINDOW_S`)."""
    return f"{PREFIX}:auth:fail:email:{email}"


def login_failures_ip(ip: str) -> str:
    """Failed logins from a source IP (INCR; TTL :data:`LOGIN_FAILURE_WINDOW_S`)."""
    return f"{PREFIX}:auth:fail:ip:{ip}"


# --- API rate limiting (writer/reader: DataFunction, AnalyticsFunction) ---------------------------


def rate_limit(user_id: str) -> str:
    """A user's token bucket (hash: tokens, updated_at; TTL a few refill periods)."""
    return f"{PREFIX}:ratelimit:{user_id}"


# --- WebSocket (writer: WsFunction; readers: WsFunction, FanoutFunction) ---------------------------

WS_CONNECTION_TTL_S: Final = 2 * 60 * 60  # API Gateway closes every WebSocket connection after 2 h


def ws_connection(connection_id: str) -> str:
    """A live connection (hash: user_id, email, connected_at, ``room:{room}`` per room joined; TTL
    :data:`WS_CONNECTION_TTL_S`)."""
    return f"{PREFIX}:ws:conn:{connection_id}"


def ws_room(room: str) -> str:
    """SET of the connection ids in ``room`` (TTL :data:`WS_CONNECTION_TTL_S`, refreshed on each join)."""
    return f"{PREFIX}:ws:room:{room}"


def ws_user(user_id: str) -> str:
    """SET of a user's connection ids (TTL :data:`WS_CONNECTION_TTL_S`, refreshed on each connect)."""
    return f"{PREFIX}:ws:user:{user_id}"
