"""Structured log lines, counters, and OpenTelemetry export when Application Insights is set.

- `log_fields` writes one line with `key=value` fields (event id, registry, credential set,
  outcome, ...) and passes the same fields as log-record attributes, which the Azure Monitor
  OpenTelemetry distro exports as custom dimensions. Fields are ids and names, never secret values.
- `METRICS` counts events by type and outcome and actions applied by kind and status, per worker
  process; `GET /api/metrics` shows them with the open findings of the latest audit.
- `configure_telemetry()` does nothing (and imports nothing) unless
  APPLICATIONINSIGHTS_CONNECTION_STRING is set; then it configures azure-monitor-opentelemetry and
  mirrors the counters as OpenTelemetry instruments. The exporter has one owner: when
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true the Python worker configures the distro itself
  (before it indexes the app), and configuring it again would install a second exporter, so
  then only the instruments are created, on the worker's meter provider.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from shared.domain.plans import Outcome

__all__ = [
    "CONNECTION_SETTING",
    "METRICS",
    "WORKER_TELEMETRY_SETTING",
    "Metrics",
    "Reacted",
    "configure_telemetry",
    "log_fields",
    "record_event",
    "record_reaction",
    "resource_names",
]

CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
WORKER_TELEMETRY_SETTING = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
_RESOURCE = re.compile(
    r"/registries/(?P<registry>[^/]+)(?:/(?:credentialSets|cacheRules)/(?P<child>[^/]+))?",
    re.IGNORECASE | re.ASCII,
)
_SAFE_VALUE = re.compile(r"[\w.:/@+-]*", re.ASCII)
_lock = threading.Lock()
_otel: dict[str, Any] | None = None  # OpenTelemetry instruments, once configured


class Reacted(Protocol):
    """What is logged and counted of a reaction to an event (a service's `Reaction` is one)."""

    @property
    def status(self) -> str:
        """The reaction's status ("applied", "no-change", ...)."""

    @property
    def reason(self) -> str:
        """Why, in a sentence."""

    @property
    def outcomes(self) -> Sequence[Outcome]:
        """One outcome per action carried out (or refused)."""


def resource_names(resource: str) -> tuple[str | None, str | None]:
    """(registry, credential set or cache rule) named in a resource id, if any."""
    found = _RESOURCE.search(resource)
    return (found["registry"], found["child"]) if found else (None, None)


def _show(value: Any) -> str:
    text = str(value)
    return text if _SAFE_VALUE.fullmatch(text) else '"' + text.replace('"', "'") + '"'


def log_fields(
    logger: logging.Logger, message: str, *, level: int = logging.INFO, **fields: Any
) -> None:
    """Log `message` followed by `key=value` for each field that is not None."""
    present = {k: v for k, v in fields.items() if v is not None}
    suffix = " ".join(f"{k}={_show(v)}" for k, v in present.items())
    logger.log(
        level,
        "%s%s%s",
        message,
        " " if suffix else "",
        suffix,
        extra={f"cachekeeper.{k}": str(v) for k, v in present.items()},
    )


class Metrics:
    """Thread-safe counters of one worker process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: Counter[tuple[str, str]] = Counter()
        self.actions: Counter[tuple[str, str]] = Counter()
        self.open_findings: dict[str, int] = {}

    def count_event(self, event_type: str, outcome: str) -> None:
        """One event of `event_type` ended with `outcome` (a reaction status)."""
        with self._lock:
            self.events[(event_type, outcome)] += 1
        _otel_add("events", 1, {"event_type": event_type, "outcome": outcome})

    def count_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        """Count the actions among `outcomes` (per-action outcomes carry their kind)."""
        for outcome in outcomes:
            if outcome.action is None:
                continue
            kind, status = outcome.action.value, outcome.status.value
            with self._lock:
                self.actions[(kind, status)] += 1
            _otel_add("actions", 1, {"action": kind, "status": status})

    def set_open_findings(self, by_severity: Mapping[str, int]) -> None:
        """The open findings of the latest audit, by severity."""
        with self._lock:
            self.open_findings = dict(by_severity)

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON-ready lists."""
        with self._lock:
            return {
                "events": [
                    {"type": t, "outcome": o, "count": n}
                    for (t, o), n in sorted(self.events.items())
                ],
                "actionsApplied": [
                    {"action": a, "status": s, "count": n}
                    for (a, s), n in sorted(self.actions.items())
                ],
                "openFindings": dict(self.open_findings),
            }

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self.events.clear()
            self.actions.clear()
            self.open_findings = {}


METRICS = Metrics()


def record_reaction(
    logger: logging.Logger, *, event_type: str, event_id: str | None, reaction: Reacted
) -> None:
    """Count a reaction to an event and log it as one structured line per resource touched."""
    status = str(reaction.status)
    METRICS.count_event(event_type, status)
    METRICS.count_outcomes(reaction.outcomes)
    touched: list[Outcome | None] = [o for o in reaction.outcomes if o.action is not None]
    for outcome in touched or [None]:
        registry, child = resource_names(outcome.resource) if outcome else (None, None)
        log_fields(
            logger,
            reaction.reason,
            event_id=event_id,
            event_type=event_type,
            registry=registry,
            credential_set=child,
            action=outcome.action.value if outcome and outcome.action else None,
            outcome=outcome.status.value if outcome else status,
        )


def record_event(logger: logging.Logger, event: Mapping[str, Any], reaction: Reacted) -> None:
    """`record_reaction` for an event in Event Grid or CloudEvents JSON (type and id read from it)."""
    from shared.domain.documents import escaped

    kind = event.get("eventType") or event.get("type") or "unknown"
    record_reaction(logger, event_type=escaped(str(kind))[:200],
                    event_id=escaped(str(event.get("id")))[:128], reaction=reaction)  # fmt: skip


def configure_telemetry(environ: Mapping[str, str] | None = None) -> bool:
    """Export logs, traces and the counters to Application Insights when its connection string
    is set; returns whether telemetry is on. Imports the SDK only in that case."""
    global _otel
    env = os.environ if environ is None else environ
    connection = env.get(CONNECTION_SETTING, "").strip()
    if not connection:
        return False
    with _lock:
        if _otel is not None:
            return True
        from azure.monitor.opentelemetry import configure_azure_monitor
        from opentelemetry import metrics

        worker_owns_exporter = env.get(WORKER_TELEMETRY_SETTING, "").strip().lower() == "true"
        try:
            if not worker_owns_exporter:
                configure_azure_monitor(connection_string=connection)
        except ValueError as error:
            raise ConfigurationError(
                CONNECTION_SETTING,
                f"not a valid connection string ({type(error).__name__})",
                "copy it from the Application Insights resource, or unset it",
            ) from None
        meter = metrics.get_meter("cachekeeper")
        _otel = {
            "events": meter.create_counter("cachekeeper.events", description="events by type and outcome"),
            "actions": meter.create_counter("cachekeeper.actions", description="actions applied by kind and status"),
        }  # fmt: skip
        meter.create_observable_gauge(
            "cachekeeper.open_findings",
            callbacks=[_observe_open_findings],
            description="open findings of the latest audit by severity",
        )
    return True


def _otel_add(name: str, amount: int, attributes: Mapping[str, str]) -> None:
    instruments = _otel
    if instruments is not None:
        instruments[name].add(amount, dict(attributes))


def _observe_open_findings(options: Any) -> list[Any]:
    from opentelemetry.metrics import Observation

    return [
        Observation(count, {"severity": severity})
        for severity, count in METRICS.snapshot()["openFindings"].items()
    ]
