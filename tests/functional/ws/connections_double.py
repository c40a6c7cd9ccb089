"""A test double of API Gateway's ``@connections`` management API (our test harness, not a fake of
our own code): ``POST /{stage}/@connections/{id}`` answers 200 and records the message, 410
``GoneException`` for ids marked gone, and after a delay for ids marked slow — the shapes boto3's
``apigatewaymanagementapi`` client parses. Runs aiohttp on its own thread and event loop; the
signature is not checked (as the local cloud's endpoint does not)."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class ConnectionsDouble:
    stage: str = "dev"
    gone: set[str] = field(default_factory=set)
    slow: dict[str, float] = field(default_factory=dict)  # id → seconds before answering
    received: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    signed: int = 0  # requests that carried a SigV4 Authorization header
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    def reset(self) -> None:
        self.gone.clear()
        self.slow.clear()
        self.received.clear()
        self.signed = 0

    async def _post(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        body = await request.read()
        if request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
            self.signed += 1
        if connection_id in self.slow:
            await asyncio.sleep(self.slow[connection_id])
        if connection_id in self.gone:
            return web.json_response(
                {"message": None}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
            )
        self.received[connection_id].append(body)
        return web.Response(status=200)

    def start(self) -> None:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application(client_max_size=2**20)
            app.router.add_post(f"/{self.stage}/@connections/{{connection_id}}", self._post)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=2048)
            await site.start()
            self.port = self._runner.addresses[0][1]
            ready.set()

        self._thread = threading.Thread(target=self._loop.run_forever, name="connections-double", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        if not ready.wait(10):
            raise RuntimeError("the @connections double did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
