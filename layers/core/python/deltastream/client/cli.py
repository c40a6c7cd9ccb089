"""``python -m deltastream.client watch SYMBOL [--chain]``: log in, connect, subscribe, draw.

Token: ``--token``, else ``$DELTASTREAM_TOKEN``, else a login with ``--email``/``--password`` (or
``$DELTASTREAM_EMAIL``/``$DELTASTREAM_PASSWORD``) at ``--api``'s ``/api/auth/login``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import urlencode

from deltastream.client.render import HIDE_CURSOR, SHOW_CURSOR, Board, frame, render
from deltastream.client.watch import Connection, Fatal, Watcher, subscriptions

DEFAULT_URL = "ws://127.0.0.1:3001/dev"
DEFAULT_API = "http://127.0.0.1:3000"


class LoginFailed(Exception):
    pass


def login(api: str, email: str, password: str, *, timeout_s: float = 10.0) -> str:
    """An access token from ``POST {api}/api/auth/login``."""
    request = urllib.request.Request(
        f"{api.rstrip('/')}/api/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise LoginFailed(f"login refused: HTTP {error.code} {error.read()[:200]!r}") from None
    except (urllib.error.URLError, OSError) as error:
        raise LoginFailed(f"cannot reach {api}: {error}") from None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise LoginFailed("the login answer has no token")
    return token


def socket_url(url: str, token: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'token': token})}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deltastream.client", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    watch = commands.add_parser("watch", help="a live board of one product")
    watch.add_argument("symbol", type=str.upper)
    watch.add_argument("--chain", action="store_true", help="also the option chain (ATM ± 5 strikes)")
    watch.add_argument("--url", default=os.environ.get("DELTASTREAM_WS_URL", DEFAULT_URL))
    watch.add_argument("--api", default=os.environ.get("DELTASTREAM_API_URL", DEFAULT_API))
    watch.add_argument("--token", default=os.environ.get("DELTASTREAM_TOKEN"))
    watch.add_argument("--email", default=os.environ.get("DELTASTREAM_EMAIL"))
    watch.add_argument("--password", default=os.environ.get("DELTASTREAM_PASSWORD"))
    return parser.parse_args(argv)


def _refused(error: Exception) -> bool:
    """The handshake was answered 401/403: the token is bad, reconnecting will not help."""
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None) in (401, 403)


async def watch(args: argparse.Namespace, token: str, out: TextIO) -> None:
    from websockets.asyncio.client import connect as ws_connect  # only the CLI needs websockets

    url = socket_url(args.url, token)
    board = Board(args.symbol)

    def draw() -> None:
        out.write(frame(render(board, chain=args.chain)))
        out.flush()

    def on_event(event: str, data: Any) -> None:
        if board.apply(event, data):
            draw()

    def on_status(status: str) -> None:
        board.status = status
        draw()

    async def connect() -> Connection:
        return await ws_connect(url, open_timeout=10, ping_interval=20, max_size=2**20)

    watcher = Watcher(
        connect,
        subscriptions(args.symbol, chain=args.chain),
        on_event,
        on_status=on_status,
        is_fatal=_refused,
    )
    await watcher.run()


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper())
    token = args.token
    try:
        if not token:
            if not (args.email and args.password):
                print("need --token, $DELTASTREAM_TOKEN, or --email and --password", file=sys.stderr)
                return 2
            token = login(args.api, args.email, args.password)
        out.write(HIDE_CURSOR + "\x1b[2J")
        asyncio.run(watch(args, token, out))
    except KeyboardInterrupt:
        return 0
    except (LoginFailed, Fatal) as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    finally:
        out.write(SHOW_CURSOR)
        out.flush()
    return 0
