"""The embedded AWS endpoint as a process of its own: ``python -m localcloud.motoserver``.

moto answers every API call in Python; sharing an interpreter (and its GIL) with the local cloud's
pollers and gateways, it and they take turns on one core. In its own process it gets a core of its
own (measured: the local cloud's Kinesis path was CPU-bound in one process). This process:

- applies the Kinesis fast path (:mod:`localcloud.moto_fastpath`);
- restores moto's backends from ``--state`` if the file exists, and saves them there when it stops,
  so a restarted local cloud finds its streams, records and sequence numbers where its checkpoints
  expect them;
- prints ``ready http://HOST:PORT`` once it serves, and stops on SIGTERM/SIGINT or when its stdin
  closes (the parent died: no orphan keeps the port).
"""

from __future__ import annotations

import argparse
import copyreg
import logging
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("localcloud.motoserver")

PERSISTED_SERVICES = ("kinesis", "sqs", "s3", "dynamodb", "sns", "ssm", "secretsmanager")


def _fresh_locks() -> None:
    """Let pickle save moto's models that hold locks (an SQS queue guards its messages with one):
    a lock pickles as a new, unlocked lock. The state is saved after the server stopped, so none is
    held then."""
    copyreg.pickle(type(threading.Lock()), _new_lock)
    copyreg.pickle(type(threading.RLock()), _new_rlock)


def _new_lock(lock: Any) -> tuple[Callable[[], Any], tuple[()]]:
    return threading.Lock, ()


def _new_rlock(lock: Any) -> tuple[Callable[[], Any], tuple[()]]:
    return threading.RLock, ()


def save_state(path: Path) -> None:
    from moto.backends import get_backend

    _fresh_locks()
    state = {service: dict(get_backend(service)) for service in PERSISTED_SERVICES}  # type: ignore[call-overload]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_bytes(pickle.dumps(state))
        temporary.replace(path)
        log.info("saved embedded AWS state to %s", path)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        log.warning("could not save embedded AWS state (%s); the next start begins empty", error)
        temporary.unlink(missing_ok=True)


def restore_state(path: Path) -> None:
    if not path.exists():
        return
    from moto.backends import get_backend

    try:
        state = pickle.loads(path.read_bytes())  # our own file
    except Exception as error:
        log.warning("ignoring unreadable embedded AWS state %s (%s)", path, error)
        return
    for service, accounts in state.items():
        backends = get_backend(service)
        backends.clear()
        backends.update(accounts)
    log.info("restored embedded AWS state from %s", path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.motoserver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--state", type=Path, default=None, help="moto's backends, pickled: restored, then saved"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.server import ThreadedMotoServer

    from localcloud import moto_fastpath

    moto_fastpath.install()
    if args.state is not None:
        restore_state(args.state)
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def watch_parent() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
        stop.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    print(f"ready http://{host}:{port}", flush=True)
    stop.wait()
    server.stop()
    if args.state is not None:
        save_state(args.state)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
