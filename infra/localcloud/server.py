"""The local cloud's HTTP front door on ``--port`` (default 3000): the local cloud's own endpoints under
``/_local/`` (``GET /_local/status``), and everything else handed to a mounted handler (the REST
gateway). A thin shell around ``handle_request`` so that routing is testable without sockets (the
Chalice local-server pattern)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

log = logging.getLogger("localcloud.server")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    multi_value_headers: dict[str, list[str]] = field(default_factory=dict)  # sent once per value


# A request's headers: a mapping, or every header line in order (repeated names kept).
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class RequestHandler(Protocol):
    def handle_request(
        self, method: str, path: str, headers: Headers, body: bytes, source_ip: str = "127.0.0.1"
    ) -> Response: ...


def json_response(status: int, document: Any) -> Response:
    return Response(
        status, json.dumps(document, indent=2, default=str).encode(), {"Content-Type": "application/json"}
    )


class LocalRouter:
    """Exact-path routes for the local cloud's own endpoints (``/_local/...``); any other path goes to
    the mounted handler when there is one."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Callable[[], Response]] = {}
        self._mounted: RequestHandler | None = None

    def add(self, method: str, path: str, handler: Callable[[], Response]) -> None:
        self._routes[(method.upper(), path)] = handler

    def mount(self, handler: RequestHandler) -> None:
        """Serve every path outside ``/_local/`` with ``handler`` (the REST gateway)."""
        self._mounted = handler

    def handle_request(
        self, method: str, path: str, headers: Headers, body: bytes, source_ip: str = "127.0.0.1"
    ) -> Response:
        if self._mounted is not None and path != "/_local" and not path.startswith(("/_local/", "/_local?")):
            return self._mounted.handle_request(method, path, headers, body, source_ip)
        route = self._routes.get((method.upper(), path.split("?", 1)[0].rstrip("/") or "/"))
        if route is None:
            return json_response(
                404, {"error": {"code": "not_found", "message": f"no route for {method} {path}"}}
            )
        try:
            return route()
        except Exception as error:  # the status endpoint must not kill the server
            log.exception("%s %s failed", method, path)
            return json_response(500, {"error": {"code": "internal", "message": str(error)}})


class LocalHttpServer:
    """A threading HTTP server on 127.0.0.1 delegating to a router's ``handle_request``."""

    def __init__(self, router: LocalRouter, port: int, host: str = "127.0.0.1") -> None:
        self._router = router

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive client's
            # delayed ACK would hold every response ~40 ms.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                response = router.handle_request(
                    self.command, self.path, self.headers.items(), body, self.client_address[0]
                )
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                for name, values in response.multi_value_headers.items():
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s - %s", self.address_string(), format % args)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="localcloud-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
