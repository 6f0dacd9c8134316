"""Audits and what the app keeps about the fleet: reports, the journal, registry status, metrics.

timer  audit_timer on %AUDIT_SCHEDULE%           audit every managed registry (AUTO_RECONCILE applies)
timer  verification_timer every minute           re-check the changes pending verification that are due,
                                                 and the pull failures left pending
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
from functions._responses import HISTORY, JOURNAL, METRICS, REGISTRY_STATUS, REPORT
from functions._routes import Op, admin_route
from functions._schemas import DRY_RUN, REGISTRY, path_param
from functions._timers import scheduled
from shared.domain.verification import RECHECK_SCHEDULE
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


@scheduled(bp, "audit_timer", schedule="%AUDIT_SCHEDULE%")
def audit_timer(timer: func.TimerRequest) -> None:
    from shared.bootstrap import context
    from shared.services.reports import audit_now

    if timer.past_due:
        log.warning("the audit timer is past due; auditing now")
    audit_now(context())


@scheduled(bp, "verification_timer", schedule=RECHECK_SCHEDULE)
def verification_timer(timer: func.TimerRequest) -> None:
    """Re-check the changes pending verification whose next check is due, and the pull failures
    left pending by a diagnosis that did not re-check them (the records are in the journal; a
    run with nothing due is two table queries)."""
    from shared.bootstrap import context
    from shared.observability import METRICS
    from shared.services.pull_failures import sweep_pending
    from shared.services.verification import recheck_due

    ctx = context()
    METRICS.count_outcomes(recheck_due(ctx))
    for reaction in sweep_pending(ctx):
        METRICS.count_outcomes(reaction.outcomes)


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
