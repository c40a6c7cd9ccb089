"""A terminal client of the WebSocket API: ``python -m deltastream.client watch NIFTY [--chain]``.

:mod:`.render` draws the board (pure), :mod:`.watch` keeps a subscription alive (reconnects with
backoff and subscribes again), :mod:`.cli` logs in and wires them to a real socket. Not shipped to
Lambda; the ``websockets`` package is needed only to run it.
"""
