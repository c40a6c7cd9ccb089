"""The WebSocket side (ARCHITECTURE §6): the connection registry and rooms in Redis, the protocol
(client messages in, ``{"event", "data"}`` out), the size limit of a client message, the fan-out of
the enriched stream to the rooms, and the ``@connections`` posters.

Module map: :mod:`.protocol` (pure: parse, validate, build events), :mod:`.messages` (pure: the
128 KB limit and how a chain is reduced to fit), :mod:`.registry` (Redis), :mod:`.snapshots` (Redis:
a room's latest cached value), :mod:`.session` (the WsFunction use cases), :mod:`.fanout` (the
FanoutFunction use case: grouping, supersession, delivery), :mod:`.connections` (the
``@connections`` management API: a boto3 thread-pool poster and an async SigV4 poster), :mod:`.http1`
(the async poster's lean HTTP/1.1 client).
"""
