"""The local cloud: a template's functions, schedules, Kinesis mappings, REST and WebSocket APIs, running
together.

Start-up order mirrors a CloudFormation deployment: AWS endpoint → template resolved against it →
resources created → function runtimes → event sources (Kinesis mappings, then schedules, which
fire at once) → the WebSocket gateway (its port is bound before the functions start: their environment
points at it) → the HTTP front door (``/_local/status`` and the REST gateway). :meth:`LocalCloud.stop`
undoes it in reverse, so nothing is invoked after its runtime is gone and the embedded AWS state is
saved last.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localcloud.aws import AwsEndpoint, Destinations, provision, queue_depths
from localcloud.clock import AcceleratedClock, Clock, SystemClock
from localcloud.kinesis import CheckpointStore, KinesisMapping
from localcloud.model import AppModel, KinesisEventSpec, OtherEventSpec, ScheduleEventSpec
from localcloud.rest_gateway import DEFAULT_INTEGRATION_TIMEOUT_S, RestGateway
from localcloud.runtime import FunctionRuntime
from localcloud.schedule import Scheduler
from localcloud.server import LocalHttpServer, LocalRouter, json_response
from localcloud.template import load_template
from localcloud.ws_config import local_endpoints, rewrite_endpoints, served_resources, websocket_apis
from localcloud.ws_gateway import DEFAULT_WS_PORT, IDLE_TIMEOUT_S, MAX_CONNECTION_S, WebSocketGateway

log = logging.getLogger("localcloud")


class LocalCloud:
    """Everything ``localcloud up`` runs, for one template."""

    def __init__(
        self,
        template: Path,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        port: int = 3000,
        speed: float = 1.0,
        state_dir: Path | None = None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        stack_name: str | None = None,
        fire_schedules_at_start: bool = True,
        poll_interval_s: float = 0.05,
        rest_integration_timeout_s: float = DEFAULT_INTEGRATION_TIMEOUT_S,
        ws_port: int = DEFAULT_WS_PORT,
        ws_idle_timeout_s: float = IDLE_TIMEOUT_S,
        ws_max_connection_s: float = MAX_CONNECTION_S,
    ) -> None:
        self.template = template
        self._overrides = dict(parameter_overrides or {})
        self._port = port
        self._schedule_clock: Clock = SystemClock() if speed == 1.0 else AcceleratedClock(speed)
        self._state_dir = state_dir
        self._stack_name = stack_name
        self._fire_at_start = fire_schedules_at_start
        self._poll_interval = poll_interval_s
        self._rest_timeout_s = rest_integration_timeout_s
        self._ws_port = ws_port
        self._ws_idle_timeout_s = ws_idle_timeout_s
        self._ws_max_connection_s = ws_max_connection_s
        self.endpoint = AwsEndpoint(endpoint_url, region=region, state_dir=state_dir)
        self.model: AppModel | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.mappings: dict[str, KinesisMapping] = {}
        self.scheduler: Scheduler | None = None
        self.rest: RestGateway | None = None
        self.websocket: WebSocketGateway | None = None
        self.router = LocalRouter()
        self.server: LocalHttpServer | None = None
        self.not_emulated: list[str] = []
        self._stopping = False

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.endpoint.start()
        self.model = model = load_template(
            self.template,
            self._overrides,
            region=self.endpoint.region,
            stack_name=self._stack_name,
            aws_endpoint_url=self.endpoint.url,
        )
        self.not_emulated = provision(self.endpoint, model)
        ws_apis = websocket_apis(model)
        if ws_apis:
            self.websocket = WebSocketGateway(
                ws_apis,
                self.runtimes,
                port=self._ws_port,
                idle_timeout_s=self._ws_idle_timeout_s,
                max_connection_s=self._ws_max_connection_s,
            )
            self.model = model = rewrite_endpoints(model, local_endpoints(ws_apis, self.websocket.port))
            served = served_resources(model, ws_apis)
            self.not_emulated = [logical_id for logical_id in self.not_emulated if logical_id not in served]
        # AWS_SAM_LOCAL is what `sam local` sets: libraries use it to skip AWS-only work locally
        # (Powertools' Tracer, for one, turns X-Ray off).
        function_env = {**self.endpoint.function_environment(), "AWS_SAM_LOCAL": "true"}
        for logical_id, spec in model.functions.items():
            self.runtimes[logical_id] = FunctionRuntime(spec, function_env)
        if self.websocket is not None:
            self.websocket.start()
        self._start_mappings(model)
        self._start_scheduler(model)
        self.router.add("GET", "/_local/status", lambda: json_response(200, self.status()))
        self.rest = RestGateway.from_model(model, self.runtimes, integration_timeout_s=self._rest_timeout_s)
        if self.rest.apis:
            self.router.mount(self.rest)
            served = {api.logical_id for api in self.rest.apis}
            self.not_emulated = [logical_id for logical_id in self.not_emulated if logical_id not in served]
        self.server = LocalHttpServer(self.router, self._port)
        self.server.start()

    def _start_mappings(self, model: AppModel) -> None:
        checkpoints = CheckpointStore(self._state_dir / "checkpoints.json" if self._state_dir else None)
        destinations = Destinations(self.endpoint)
        kinesis = self.endpoint.client("kinesis")
        for logical_id, spec in model.functions.items():
            for event in spec.events:
                if not isinstance(event, KinesisEventSpec):
                    continue
                key = f"{logical_id}.{event.name}"
                send_failure = (
                    functools.partial(destinations.send, event.on_failure_arn)
                    if event.on_failure_arn
                    else functools.partial(_log_discarded, key)
                )
                mapping = KinesisMapping(
                    key,
                    event,
                    kinesis=kinesis,
                    invoke=self.runtimes[logical_id].invoke,
                    send_failure=send_failure,
                    checkpoints=checkpoints,
                    function_arn=spec.arn,
                    region=model.region,
                    poll_interval_s=self._poll_interval,
                    raw_endpoint=self.endpoint.url if self.endpoint.embedded else None,
                )
                mapping.start()
                self.mappings[key] = mapping

    def _start_scheduler(self, model: AppModel) -> None:
        schedules = [
            (logical_id, event)
            for logical_id, spec in model.functions.items()
            for event in spec.events
            if isinstance(event, ScheduleEventSpec)
        ]
        if not schedules:
            return
        self.scheduler = Scheduler(
            schedules,
            self._invoke_scheduled,
            region=model.region,
            account_id=model.account_id,
            clock=self._schedule_clock,
            fire_at_start=self._fire_at_start,
        )
        self.scheduler.start()

    def _invoke_scheduled(self, function_id: str, event: dict[str, Any]) -> None:
        outcome = self.runtimes[function_id].invoke(event)
        if not outcome.ok and self._stopping:
            log.info("%s: scheduled invocation ended by shutdown", function_id)
            return
        if not outcome.ok:
            error = outcome.error or {}
            raise RuntimeError(f"{function_id}: {error.get('errorType')}: {error.get('errorMessage')}")

    def stop(self) -> None:
        """Stop everything, in reverse start order; safe to call twice or after a failed start."""
        self._stopping = True
        if self.scheduler is not None:
            self.scheduler.stop()
        for mapping in self.mappings.values():
            mapping.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.rest is not None:
            self.rest.close()
        if self.websocket is not None:
            self.websocket.stop()
        for runtime in self.runtimes.values():
            runtime.close()
        self.endpoint.stop()

    # --- status --------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``GET /_local/status`` (ARCHITECTURE §7); more keys may be added, these stay."""
        model = self.model
        return {
            "aws_endpoint_url": self.endpoint.url,
            "stack_name": model.stack_name if model else None,
            "functions": {logical_id: runtime.stats() for logical_id, runtime in self.runtimes.items()},
            "mappings": {key: mapping.status() for key, mapping in self.mappings.items()},
            "queues": {
                logical_id: {"messages": depth}
                for logical_id, depth in queue_depths(self.endpoint, model.queues if model else {})
            },
            "schedules": {
                f"{s.function_id}.{s.event_name}": {
                    "expression": s.expression,
                    "enabled": s.enabled,
                    "fired": s.fired,
                    "failed": s.failed,
                    "next_fire_at": s.next_fire_at.isoformat() if s.next_fire_at else None,
                }
                for s in (self.scheduler.status() if self.scheduler else [])
            },
            "rest": self.rest.status() if self.rest else {},
            "websocket": self.websocket.status() if self.websocket else {"connections": 0},
            "not_emulated": self.not_emulated,
        }

    def banner(self) -> str:
        """What is running and where, for the console."""
        model = self.model
        assert model is not None
        assert self.server is not None
        lines = [
            f"localcloud: {self.template} (stack {model.stack_name}, {model.region})",
            f"  AWS APIs        {self.endpoint.url}{' (embedded moto)' if self.endpoint.embedded else ''}",
            f"  status          http://127.0.0.1:{self.server.port}/_local/status",
            *(self.rest.banner_lines(self.server.port) if self.rest else []),
            *(self.websocket.banner_lines() if self.websocket else []),
        ]
        for logical_id, spec in model.functions.items():
            triggers = ", ".join(_describe(event) for event in spec.events) or "no event sources"
            lines.append(f"  λ {logical_id:<22} {spec.handler}  ← {triggers}")
        for logical_id, stream in model.streams.items():
            lines.append(f"  kinesis {logical_id:<16} {stream.name} ({stream.shard_count} shard(s))")
        for logical_id, queue in model.queues.items():
            lines.append(f"  sqs {logical_id:<20} {queue.name}")
        if self.not_emulated:
            lines.append(f"  not emulated    {', '.join(self.not_emulated)}")
        return "\n".join(lines)


def _describe(event: object) -> str:
    if isinstance(event, ScheduleEventSpec):
        return f"{event.expression}{'' if event.enabled else ' (disabled)'}"
    if isinstance(event, KinesisEventSpec):
        return f"kinesis:{event.stream_name}"
    if isinstance(event, OtherEventSpec) and event.type == "Api":
        return f"{str(event.properties.get('Method', 'ANY')).upper()} {event.properties.get('Path', '/')}"
    return str(getattr(event, "type", type(event).__name__))


def _log_discarded(mapping: str, document: dict[str, Any]) -> None:
    """Without an on-failure destination Lambda drops discarded records; we at least say which."""
    log.error(
        "%s: records discarded with no on-failure destination: %s", mapping, document["KinesisBatchInfo"]
    )


def endpoint_from_environment() -> str | None:
    """``AWS_ENDPOINT_URL`` (e.g. LocalStack) when set, else None (embedded moto)."""
    return os.environ.get("AWS_ENDPOINT_URL") or None
