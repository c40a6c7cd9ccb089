"""One mongomock database shared by the processes of a local run (``MONGO_URL=mongomock://HOST:PORT``).

Why: the local cloud runs each function in its own worker process, and an in-process mongomock would
give each one a private, empty database — the data function would never see what enrichment wrote.
This module hosts ONE mongomock client in a stdlib :class:`multiprocessing.managers.BaseManager`
server and exposes the narrow :class:`deltastream.adapters.mongo.Collections` API over it; arguments
and results are plain picklable values (pymongo operation objects, dicts, lists).

Run it with ``python -m deltastream.adapters.mongo_embedded --port 27117`` (``--port 0`` picks a free
port); it prints ``ready mongomock://HOST:PORT`` once it accepts connections and serves until SIGTERM
or SIGINT. Data lives in memory only.

Security: the manager protocol is pickle, so anyone holding the authkey can run code in the server.
It binds to loopback by default; the key comes from ``MONGO_EMBEDDED_AUTHKEY`` (default
:data:`DEFAULT_AUTHKEY`, fine for a developer machine, never for a shared host).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.managers import BaseManager, BaseProxy
from types import FrameType
from typing import Any, Final, NoReturn, cast
from urllib.parse import urlsplit

import mongomock
from pymongo import MongoClient

from deltastream.adapters.mongo import (
    EMBEDDED_SCHEME,
    BulkResult,
    IndexKeys,
    MongomockCollections,
    WriteOperation,
)

AUTHKEY_ENV: Final = "MONGO_EMBEDDED_AUTHKEY"
DEFAULT_AUTHKEY: Final = "deltastream-local"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 27117

_EXPOSED: Final = (
    "bulk_write",
    "find",
    "create_index",
    "drop_index",
    "index_information",
    "count_documents",
    "delete_many",
    "drop",
)


def authkey_from_env(env: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if env is None else env
    return (env.get(AUTHKEY_ENV) or DEFAULT_AUTHKEY).encode()


class EmbeddedStore:
    """The server side: one mongomock client; every call names its database and collection.

    The manager serves each connection on its own thread and mongomock is not thread-safe, so one
    lock serialises every call (local-run volumes make that cheap).
    """

    def __init__(self) -> None:
        self._client: MongoClient[dict[str, Any]] = mongomock.MongoClient(tz_aware=True)
        self._lock = threading.Lock()

    def _database(self, database: str) -> MongomockCollections:
        return MongomockCollections(self._client[database])

    def bulk_write(
        self, database: str, collection: str, requests: Sequence[WriteOperation], ordered: bool
    ) -> BulkResult:
        with self._lock:
            return self._database(database).bulk_write(collection, requests, ordered=ordered)

    def find(
        self,
        database: str,
        collection: str,
        filter: Mapping[str, Any],
        sort: Sequence[tuple[str, int]],
        limit: int,
    ) -> list[dict[str, Any]]:
        with self._lock:
            return self._database(database).find(collection, filter, sort=sort, limit=limit)

    def create_index(
        self, database: str, collection: str, keys: IndexKeys, name: str, options: Mapping[str, Any]
    ) -> str:
        with self._lock:
            return self._database(database).create_index(collection, keys, name=name, **options)

    def drop_index(self, database: str, collection: str, name: str) -> None:
        with self._lock:
            self._database(database).drop_index(collection, name)

    def index_information(self, database: str, collection: str) -> dict[str, Any]:
        with self._lock:
            return self._database(database).index_information(collection)

    def count_documents(self, database: str, collection: str, filter: Mapping[str, Any]) -> int:
        with self._lock:
            return self._database(database).count_documents(collection, filter)

    def delete_many(self, database: str, collection: str, filter: Mapping[str, Any]) -> int:
        with self._lock:
            return self._database(database).delete_many(collection, filter)

    def drop(self, database: str, collection: str) -> None:
        with self._lock:
            self._database(database).drop(collection)


class _ServerManager(BaseManager):
    pass


class _ClientManager(BaseManager):
    pass


_ClientManager.register("store", exposed=_EXPOSED)


def parse_url(url: str) -> tuple[str, int]:
    """``mongomock://HOST:PORT`` → (host, port)."""
    if not url.startswith(EMBEDDED_SCHEME):
        raise ValueError(f"not an embedded store URL (expected {EMBEDDED_SCHEME}HOST:PORT): {url!r}")
    parts = urlsplit(url)
    if not parts.hostname or parts.port is None:
        raise ValueError(f"embedded store URL needs a host and a port: {url!r}")
    return parts.hostname, parts.port


class EmbeddedCollections:
    """The client side: :class:`~deltastream.adapters.mongo.Collections` of one database, served by the
    embedded store at ``url``. Usable from several threads (the proxy opens a connection per thread)."""

    def __init__(self, url: str, database: str, authkey: bytes | None = None) -> None:
        self._address = parse_url(url)
        self._authkey = authkey or authkey_from_env()
        self._database = database
        self._store: BaseProxy | None = None

    def _call(self, method: str, *args: Any) -> Any:
        # Connect on first use, like pymongo: a handler can build its adapters at import time even
        # when the local cloud starts the store after the function's worker.
        if self._store is None:
            manager = _ClientManager(address=self._address, authkey=self._authkey)
            manager.connect()
            self._store = cast(BaseProxy, manager.store())  # type: ignore[attr-defined]
        return self._store._callmethod(method, (self._database, *args))

    def bulk_write(
        self, collection: str, requests: Sequence[WriteOperation], *, ordered: bool = True
    ) -> BulkResult:
        return cast(BulkResult, self._call("bulk_write", collection, list(requests), ordered))

    def find(
        self,
        collection: str,
        filter: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call("find", collection, dict(filter), list(sort), limit))

    def create_index(self, collection: str, keys: IndexKeys, *, name: str, **options: Any) -> str:
        return cast(str, self._call("create_index", collection, list(keys), name, options))

    def drop_index(self, collection: str, name: str) -> None:
        self._call("drop_index", collection, name)

    def index_information(self, collection: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("index_information", collection))

    def count_documents(self, collection: str, filter: Mapping[str, Any]) -> int:
        return cast(int, self._call("count_documents", collection, dict(filter)))

    def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int:
        return cast(int, self._call("delete_many", collection, dict(filter)))

    def drop(self, collection: str) -> None:
        self._call("drop", collection)


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    authkey: bytes | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> NoReturn:
    """Serve one embedded store until SIGTERM or SIGINT, then exit the process (the manager's
    ``serve_forever`` always ends in ``sys.exit``). ``on_ready`` gets the store's URL once it is
    listening — with the real port when ``port`` is 0.
    """
    store = EmbeddedStore()
    _ServerManager.register("store", callable=lambda: store, exposed=_EXPOSED)
    manager = _ServerManager(address=(host, port), authkey=authkey or authkey_from_env())
    server = manager.get_server()
    bound_host, bound_port = cast(tuple[str, int], server.address)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # serve_forever's main loop catches it and shuts the server down

    signal.signal(signal.SIGTERM, stop)
    if on_ready is not None:
        on_ready(f"{EMBEDDED_SCHEME}{bound_host}:{bound_port}")
    server.serve_forever()
    raise SystemExit(0)  # not reached: serve_forever exits


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m deltastream.adapters.mongo_embedded",
        description="Serve one in-memory mongomock database to the processes of a local run.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default: %(default)s)"
    )
    arguments = parser.parse_args(argv)
    # The "ready" line is the contract with whoever started the process (the local cloud, tests).
    serve(arguments.host, arguments.port, on_ready=lambda url: print(f"ready {url}", flush=True))


if __name__ == "__main__":
    main()
