"""Audits and what the app keeps about the fleet: reports, the journal, registry status, metrics.

timer  audit_timer on %AUDIT_SCHEDULE%           start an audit run: one work item per managed registry
queue  audit_registry on cachekeeper-audit       audit one registry of a run (AUTO_RECONCILE applies)
queue  audit_poisoned on cachekeeper-audit-poison  a work item the host gave up on: the registry is missing
timer  verification_timer every minute           re-check the changes pending verification that are due,
                                                 and the pull failures left pending
timer  event_outbox_timer every minute, at :30    publish the events left in the outbox
POST   /api/audit[?dry_run=true]                 audit now; body {} or {"registry": name}; the report
GET    /api/audit/latest                         the latest report
GET    /api/audit/reports/{id}                   one kept report
GET    /api/journal?since=ISO&limit=N            outcomes and findings, newest first
GET    /api/history?days=N                       findings per audit, actions per day, rotations
GET    /api/registries/{registry}/status         rules, credential sets with health, last actions
GET    /api/metrics                              counters: events, actions applied, open findings
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._http import flag, read_object
from functions._queues import HOST_STORAGE, queue_consumer
from functions._responses import HISTORY, JOURNAL, METRICS, REGISTRY_STATUS, REPORT
from functions._routes import Op, admin_route
from functions._schemas import DRY_RUN, REGISTRY, path_param
from functions._timers import scheduled
from shared.domain.triggers import AUDIT_QUEUE, OUTBOX_SCHEDULE, POISON_QUEUE, RECHECK_SCHEDULE
from shared.errors import InvalidInputError

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
log = logging.getLogger(__name__)
_DEFAULT_JOURNAL_LIMIT = 100
_AUDIT_BODY = {"type": "object", "properties": {"registry": {"type": "string"}},
               "additionalProperties": False}  # fmt: skip
_SINCE = {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}
_DAYS = {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 31}}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
}


@scheduled(
    bp, "audit_timer", schedule="%AUDIT_SCHEDULE%",
    enqueue=(AUDIT_QUEUE, HOST_STORAGE),
)  # fmt: skip
def audit_timer(timer: func.TimerRequest) -> list[str]:
    """Start an audit run: its work items, one per managed registry, go to the audit queue (the
    queue output binding). Without a fan-out store, every registry is audited here."""
    from shared.bootstrap import context
    from shared.services.event_publisher import publish_pending
    from shared.services.fanout import start_run
    from shared.services.reports import audit_now

    if timer.past_due:
        log.warning("the audit timer is past due; auditing now")
    ctx = context()
    if ctx.fanout is None:
        try:
            audit_now(ctx)
        finally:
            publish_pending(ctx)
        return []
    return start_run(ctx)


@queue_consumer(bp, "audit_registry", queue=AUDIT_QUEUE)
def audit_registry(message: func.QueueMessage) -> None:
    """Audit the work item's registry; a failure is retried by the host (maxDequeueCount)."""
    from shared.bootstrap import context
    from shared.services.event_publisher import publish_pending
    from shared.services.fanout import audit_work_item

    ctx = context()
    try:
        audit_work_item(ctx, message.get_body())
    finally:
        publish_pending(ctx)


@queue_consumer(bp, "audit_poisoned", queue=POISON_QUEUE)
def audit_poisoned(message: func.QueueMessage) -> None:
    """A work item the host moved to the poison queue: its registry is reported as missing."""
    from shared.bootstrap import context
    from shared.hosting.queues import host_queue_options
    from shared.services.event_publisher import publish_pending
    from shared.services.fanout import record_poisoned

    ctx = context()
    try:
        record_poisoned(ctx, message.get_body(), attempts=host_queue_options().max_dequeue_count)
    finally:
        publish_pending(ctx)


@scheduled(bp, "verification_timer", schedule=RECHECK_SCHEDULE)
def verification_timer(timer: func.TimerRequest) -> None:
    """Re-check the changes pending verification whose next check is due, and the pull failures
    left pending by a diagnosis that did not re-check them (the records are in the journal; a
    run with nothing due is two table queries)."""
    from shared.bootstrap import context
    from shared.observability import METRICS
    from shared.services.event_publisher import publish_pending
    from shared.services.pull_failures import sweep_pending
    from shared.services.verification import recheck_due

    ctx = context()
    try:
        METRICS.count_outcomes(recheck_due(ctx))
        for reaction in sweep_pending(ctx):
            METRICS.count_outcomes(reaction.outcomes)
    finally:
        publish_pending(ctx)


@scheduled(bp, "event_outbox_timer", schedule=OUTBOX_SCHEDULE)
def event_outbox_timer(timer: func.TimerRequest) -> None:
    """Publish the events still in the outbox: a publish that failed after its reaction, or a
    worker that stopped before publishing (with publishing off, nothing at all is read)."""
    from shared.bootstrap import context
    from shared.services.event_publisher import publish_pending

    publish_pending(context())


@admin_route(
    bp,
    "audit",
    name="run_audit",
    post=Op(
        "Audit every managed registry, or one, now",
        schema=REPORT,
        params=(DRY_RUN,),
        request=_AUDIT_BODY,
        responses={"200": "the audit report", "404": "registry not managed"},
    ),
)
def run_audit(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.reports import audit_now

    body = read_object(req)
    unknown = sorted(set(body) - {"registry"})
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(unknown)}")
    registry = body.get("registry")
    if registry is not None and (not isinstance(registry, str) or not registry.strip()):
        raise InvalidInputError('"registry" must be a registry name')
    reconcile = False if flag(req, "dry_run") else None
    return audit_now(ctx, registry=registry, reconcile=reconcile).to_dict()


@admin_route(
    bp,
    "audit/latest",
    name="latest_audit",
    get=Op(
        "The latest audit report",
        schema=REPORT,
        responses={"200": "the report", "404": "no audit ran yet"},
    ),
)
def latest_audit(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.reports import latest_report

    return dict(latest_report(ctx))


@admin_route(
    bp,
    "audit/reports/{id}",
    name="audit_report",
    get=Op(
        "One audit report",
        schema=REPORT,
        params=(path_param("id"),),
        responses={"200": "the report", "404": "no such report"},
    ),
)
def audit_report(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.reports import get_report

    return dict(get_report(ctx, req.route_params["id"]))


@admin_route(
    bp,
    "journal",
    name="journal",
    get=Op("Outcomes and findings, newest first", schema=JOURNAL, params=(_SINCE, _LIMIT)),
)
def journal(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.reports import journal_view, parse_since

    raw = (req.params.get("limit") or str(_DEFAULT_JOURNAL_LIMIT)).strip()
    if not raw.isdigit():
        raise InvalidInputError("limit must be a whole number")
    since = parse_since(req.params.get("since"))
    return journal_view(ctx, since=since, limit=int(raw))


@admin_route(
    bp,
    "history",
    name="history",
    get=Op(
        "The last days: findings per audit, actions per day by kind, credential set rotations",
        params=(_DAYS,),
        schema=HISTORY,
    ),
)
def history(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.history import DEFAULT_DAYS, history_view

    raw = (req.params.get("days") or str(DEFAULT_DAYS)).strip()
    if not raw.isdigit() or len(raw) > 3:
        raise InvalidInputError("days must be a whole number")
    return history_view(ctx, days=int(raw))


@admin_route(
    bp,
    "registries/{registry}/status",
    name="registry_status",
    get=Op(
        "Rules, credential sets with health and secret expiry, last actions",
        schema=REGISTRY_STATUS,
        params=(REGISTRY,),
        responses={"200": "the status", "404": "registry not managed"},
    ),
)
def registry_status(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.status import registry_status as status

    return status(ctx, req.route_params["registry"])


@admin_route(
    bp,
    "metrics",
    name="metrics",
    get=Op("Counters: events, actions applied, open findings", schema=METRICS),
)
def metrics(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.reports import metrics_view

    return metrics_view(ctx)
