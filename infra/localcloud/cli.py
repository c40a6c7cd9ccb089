"""``localcloud up``: run a SAM template locally, without Docker.

    localcloud up --template template.yaml [--port 3000] [--speed N] [--parameter-overrides K=V ...]

Ctrl-C or SIGTERM stops everything cleanly: schedules and pollers first, then the function workers,
then the embedded AWS endpoint (whose state is saved to ``--state-dir`` for the next start).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from localcloud.cloud import LocalCloud, endpoint_from_environment
from localcloud.template import TemplateError

log = logging.getLogger("localcloud")


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``K=V`` pairs, or SAM's ``ParameterKey=K,ParameterValue=V`` form."""
    result: dict[str, str] = {}
    for pair in pairs:
        if pair.startswith("ParameterKey="):
            fields = dict(part.split("=", 1) for part in pair.split(",") if "=" in part)
            if "ParameterValue" not in fields:
                raise argparse.ArgumentTypeError(f"--parameter-overrides: no ParameterValue in {pair!r}")
            result[fields["ParameterKey"]] = fields["ParameterValue"]
        elif "=" in pair:
            key, value = pair.split("=", 1)
            result[key] = value
        else:
            raise argparse.ArgumentTypeError(f"--parameter-overrides takes KEY=VALUE, got {pair!r}")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localcloud", description="A Docker-free local cloud for AWS SAM templates."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the template's functions, schedules and event sources")
    up.add_argument(
        "--template", "-t", type=Path, default=Path("template.yaml"), help="SAM template (template.yaml)"
    )
    up.add_argument(
        "--port", type=int, default=3000, help="HTTP port for /_local/status and the REST API (3000)"
    )
    up.add_argument("--ws-port", type=int, default=3001, help="WebSocket API port (3001)")
    up.add_argument("--speed", type=float, default=1.0, help="schedule clock speed-up factor (1 = real time)")
    up.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="template parameters"
    )
    up.add_argument(
        "--state-dir", type=Path, default=Path(".localcloud"), help="checkpoints and saved AWS state"
    )
    up.add_argument("--fresh", action="store_true", help="forget saved checkpoints and AWS state first")
    up.add_argument("--region", default="us-east-1")
    up.add_argument("--no-initial-fire", action="store_true", help="rate() schedules wait one interval first")
    up.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s.%(msecs)03d %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    if not args.template.is_file():
        parser.error(f"--template: no such file {args.template}")
    try:
        overrides = _overrides(args.parameter_overrides)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.fresh:
        for name in ("checkpoints.json", "moto-state.pickle"):
            (args.state_dir / name).unlink(missing_ok=True)

    cloud = LocalCloud(
        args.template,
        parameter_overrides=overrides,
        port=args.port,
        ws_port=args.ws_port,
        speed=args.speed,
        state_dir=args.state_dir,
        endpoint_url=endpoint_from_environment(),
        region=args.region,
        fire_schedules_at_start=not args.no_initial_fire,
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        cloud.start()
    except TemplateError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. the port is taken
        print(f"localcloud: {error}", file=sys.stderr)
        return 1
    print(cloud.banner(), flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        stopping.wait()
    finally:
        log.info("stopping ...")
        cloud.stop()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
