"""The Sandbox: emulated ARM + Key Vault behind one lock, with a clock, faults and a request log."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.acr_data import handle_acr_data, registry_for_host
from sandbox.arm import handle_arm
from sandbox.clock import Clock
from sandbox.controls import SandboxControls
from sandbox.env import (
    ARM_HOST,
    KEYVAULT_SUFFIX,
    TIMING_FIELDS,
    SandboxOptions,
    throttling_options,
    timing_options,
)
from sandbox.errors import HostNotFoundError, ServiceError, SimulatedTimeoutError
from sandbox.eventgrid import TOPIC_HOST, TopicLog, handle_eventgrid
from sandbox.faults import FaultDecision, Faults
from sandbox.graph import GRAPH_HOST, handle_graph
from sandbox.kv_data import handle_keyvault
from sandbox.pull_controls import PullControls
from sandbox.requestlog import WRITE_METHODS, RequestLog, RequestRecord
from sandbox.scenario import Scenario, ScenarioError, build_state, read_document
from sandbox.set_controls import SetControls
from sandbox.throttling import Admission, Throttle
from sandbox.wire import Request, Response, error_response

if TYPE_CHECKING:
    from sandbox.transport import AsyncSandboxTransport, SandboxTransport, StaticTokenCredential

_FAULT_ERRORS = {
    "403": ("AuthorizationFailed", "The client is not authorized (injected by the sandbox)."),
    "429": ("TooManyRequests", "Too many requests (injected by the sandbox)."),
    "500": ("InternalServerError", "Internal server error (injected by the sandbox)."),
    "503": ("ServiceUnavailable", "Service unavailable (injected by the sandbox)."),
}
_BODY_LOG_LIMIT = 4096


class Sandbox(SandboxControls, PullControls, SetControls):
    """Emulated Azure (ACR, Authorization, Key Vault) for tests and the local run."""

    def __init__(
        self,
        scenario: str | Path | bytes | dict[str, Any] | None = None,
        *,
        options: SandboxOptions | None = None,
        seed: int = 0,
        **option_overrides: Any,
    ) -> None:
        self.options = options or SandboxOptions()
        for key in option_overrides:
            if not hasattr(self.options, key):
                raise TypeError(f"unknown sandbox option {key!r}")
        self.clock = Clock()
        self.faults = Faults(seed)
        self.log = RequestLog()
        self.throttle = Throttle(lambda: self.options)
        self.topics = TopicLog()  # what Event Grid custom topics accepted (sandbox/eventgrid.py)
        self._lock = threading.RLock()
        self._served = 0
        self._source: str | Path | bytes | dict[str, Any] | None = None
        self.scenario = Scenario({})
        self.state = build_state({}, self.clock.now())
        if scenario is not None:
            self.load_scenario(scenario)
        for key, value in option_overrides.items():  # the caller's options beat the scenario's
            setattr(self.options, key, value)

    # -- lifecycle -------------------------------------------------------------------------------
    def load_scenario(self, source: str | Path | bytes | dict[str, Any]) -> Scenario:
        """Replace the state with the scenario's (log, faults and clock are kept); its `timing:`
        (healthRefreshSeconds, rbacDelaySeconds) and `throttling:` (sandbox/env.py
        THROTTLING_FIELDS) set those options."""
        doc, origin = read_document(source)
        timing = doc.get("timing") or {}
        throttling = doc.get("throttling") or {}
        if not isinstance(timing, dict):
            raise ScenarioError("timing: is a mapping of healthRefreshSeconds, rbacDelaySeconds")
        if not isinstance(throttling, dict):
            raise ScenarioError("throttling: is a mapping (enabled, armReadBucket, ...)")
        unknown = sorted(set(timing) - set(TIMING_FIELDS))
        if unknown:
            raise ScenarioError(f"unknown timing field(s): {', '.join(unknown)}")
        try:
            seconds = timing_options(timing, TIMING_FIELDS)
            limits = throttling_options(throttling)
        except ValueError as err:
            raise ScenarioError(str(err)) from err
        with self._lock:
            for name, value in (seconds | limits).items():
                setattr(self.options, name, value)
            self.state = build_state(doc, self.clock.now())
            self.scenario = Scenario(doc, origin, list(self.state.policies))
            self._source = source
        return self.scenario

    def set_throttling(self, fields: dict[str, Any]) -> None:
        """Set the request limits from a scenario's `throttling:` fields (`enabled`,
        `armReadBucket`, ...: sandbox/env.py THROTTLING_FIELDS); ValueError naming a bad one."""
        if not isinstance(fields, dict):
            raise ValueError("throttling is a mapping (enabled, armReadBucket, ...)")
        values = throttling_options(fields)
        with self._lock:
            for name, value in values.items():
                setattr(self.options, name, value)

    def reset(self) -> None:
        """Back to the last loaded scenario: fresh state, empty log, no faults, real time."""
        self.clock.use_real_time()
        self.faults.clear()
        self.log.clear()
        self.throttle.clear()
        self.topics.clear()
        with self._lock:
            self._served = 0
            self.state = build_state(self.scenario.raw, self.clock.now())

    # -- traffic ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one ARM or Key Vault request (raises SimulatedTimeoutError / HostNotFoundError)."""
        plane = self._plane(request.host)
        decision = self.faults.decide(request.method, request.host, request.path)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000)  # real time, outside the lock
        if decision.kind == "timeout":
            self._record(request, plane, 0, fault="timeout")
            raise SimulatedTimeoutError(f"{request.method} {request.path} timed out (injected)")
        if decision.kind:
            response = self._fault_response(decision)
            self._record(request, plane, response.status, fault=decision.kind)
            return response
        with self._lock:
            admission = self._admit(request, plane)
            try:
                if admission.refusal is not None:
                    raise admission.refusal
                response = self._route(request, plane)
            except ServiceError as err:
                response = error_response(err)
            response.headers.update(admission.headers)
            if response.secret_value_served:
                self._served += 1
            self._record(
                request,
                plane,
                response.status,
                challenge=plane in ("keyvault", "acr") and response.status == 401,
                served=response.secret_value_served,
                fault="throttled" if admission.refusal is not None else None,
                remaining=admission.remaining,
            )
        return response

    def _admit(self, request: Request, plane: str) -> Admission:
        """The request limits' verdict (option `throttling`); only authenticated ARM and Key
        Vault requests are metered."""
        signed = request.headers.get("authorization", "").lower().startswith("bearer ")
        if not self.options.throttling or not signed:
            return Admission({})
        if plane == "arm":
            return self.throttle.admit_arm(request, self.clock.now())
        if plane == "keyvault":
            return self.throttle.admit_keyvault(request, self.clock.now())
        return Admission({})

    def _plane(self, host: str) -> str:
        if host == ARM_HOST:
            return "arm"
        if host == GRAPH_HOST:
            return "graph"
        if TOPIC_HOST.match(host):
            return "eventgrid"
        if host.endswith(KEYVAULT_SUFFIX) and self.state.vault(host[: -len(KEYVAULT_SUFFIX)]):
            return "keyvault"
        if registry_for_host(self.state.registries.values(), host) is not None:
            return "acr"
        raise HostNotFoundError(host)

    def _route(self, request: Request, plane: str) -> Response:
        env = self.env()
        if plane == "arm":
            return handle_arm(env, request)
        if plane == "graph":
            return handle_graph(env, request)
        if plane == "eventgrid":
            return handle_eventgrid(
                self.topics, request, local_auth=self.options.eventgrid_local_auth
            )
        if plane == "acr":
            registry = registry_for_host(self.state.registries.values(), request.host)
            if registry is None:
                raise HostNotFoundError(request.host)
            return handle_acr_data(env, registry, request)
        vault = self.state.vault(request.host[: -len(KEYVAULT_SUFFIX)])
        if vault is None:
            raise HostNotFoundError(request.host)
        return handle_keyvault(env, vault, request)

    @staticmethod
    def _fault_response(decision: FaultDecision) -> Response:
        code, message = _FAULT_ERRORS[decision.kind or "500"]
        headers = {}
        if decision.kind in ("429", "503"):
            headers["Retry-After"] = str(decision.retry_after)
        return error_response(
            ServiceError(int(decision.kind or 500), code, message, headers=headers)
        )

    def _record(
        self,
        request: Request,
        plane: str,
        status: int,
        *,
        fault: str | None = None,
        challenge: bool = False,
        served: bool = False,
        remaining: int | None = None,
    ) -> None:
        self.log.append(
            method=request.method,
            host=request.host,
            path=request.path,
            query=dict(request.query),
            status=status,
            plane=plane,
            # ACR's token exchange is a POST that changes nothing: not a write
            write=request.method in WRITE_METHODS and not request.path.startswith("/oauth2/"),
            body=_loggable_body(request, plane),
            fault=fault,
            challenge=challenge,
            secret_value_served=served,
            extra=self._throttle_extra(remaining),
        )

    def _throttle_extra(self, remaining: int | None) -> dict[str, Any]:
        """With throttling on, when (sandbox clock) the request was answered and the tokens its
        bucket had left after it (ARM)."""
        if not self.options.throttling:
            return {}
        extra: dict[str, Any] = {"at": self.clock.now().timestamp()}
        if remaining is not None:
            extra["remaining"] = remaining
        return extra

    # -- observation ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """Every logged ARM/Key Vault request, oldest first."""
        return self.log.all()

    @property
    def secret_values_served(self) -> int:
        """How many secret values Key Vault handed out (GET secret); must stay 0 for the product."""
        with self._lock:
            return self._served

    def write_count(self, path: str | None = None) -> int:
        """Number of write requests (optionally whose path matches the regex `path`)."""
        return len(self.log.writes(path))

    def requests_matching(self, path: str | None = None, **filters: Any) -> list[RequestRecord]:
        """Logged requests filtered by path regex, method, host, plane, writes_only."""
        return self.log.matching(path, **filters)

    def transport(self, **kwargs: Any) -> SandboxTransport:
        """A new azure-core transport that routes SDK requests into this sandbox in-process."""
        from sandbox.transport import SandboxTransport

        return SandboxTransport(self, **kwargs)

    def async_transport(self, **kwargs: Any) -> AsyncSandboxTransport:
        """A new async azure-core transport into this sandbox (for the SDKs' aio clients)."""
        from sandbox.transport import AsyncSandboxTransport

        return AsyncSandboxTransport(self, **kwargs)

    @staticmethod
    def credential() -> StaticTokenCredential:
        """A TokenCredential returning a fake token (the sandbox accepts any bearer token)."""
        from sandbox.transport import StaticTokenCredential

        return StaticTokenCredential()


def _loggable_body(request: Request, plane: str) -> str | None:
    if not request.body:
        return None
    text = request.body[:_BODY_LOG_LIMIT].decode("utf-8", "replace")
    if plane == "keyvault" and request.method == "PUT":
        return "<secret value redacted>"  # a set-secret body carries the value
    return text
