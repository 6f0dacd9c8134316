"""Audits, reports, the journal, status, plan and apply, metrics.

timer  audit_timer on %AUDIT_SCHEDULE%           audit every managed registry (AUTO_RECONCILE applies)
POST   /api/audit[?dry_run=true]                 audit now; body {} or {"registry": name}; the report
GET    /api/audit/latest                         the latest report
GET    /api/audit/{id}                           one report
GET    /api/journal?since=ISO&limit=N            outcomes and findings, newest first
GET    /api/registries/{registry}/status         rules, credential sets with health, last actions
POST   /api/plan                                 {} | {"registry"} | + {"credentialSet"} | + {"repository"}
POST   /api/apply                                the same scope + {"planId"}; 409 with the new plan if stale
GET    /api/metrics                              counters: events, actions applied, open findings
"""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func

from functions._http import flag, guarded, json_response, read_json
from shared.errors import InvalidInputError

bp = func.Blueprint()
log = logging.getLogger(__name__)
_DEFAULT_JOURNAL_LIMIT = 100


def _object(req: func.HttpRequest) -> dict[str, Any]:
    body = read_json(req)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return body


@bp.function_name("audit_timer")
@bp.timer_trigger(
    arg_name="timer", schedule="%AUDIT_SCHEDULE%", run_on_startup=False, use_monitor=True
)
def audit_timer(timer: func.TimerRequest) -> None:
    from shared.bootstrap import context
    from shared.services.reports import audit_now

    if timer.past_due:
        log.warning("the audit timer is past due; auditing now")
    audit_now(context())


@bp.function_name("run_audit")
@bp.route(route="audit", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def run_audit(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.reports import audit_now

        body = _object(req)
        unknown = sorted(set(body) - {"registry"})
        if unknown:
            raise InvalidInputError(f"unknown field(s): {', '.join(unknown)}")
        registry = body.get("registry")
        if registry is not None and (not isinstance(registry, str) or not registry.strip()):
            raise InvalidInputError('"registry" must be a registry name')
        reconcile = False if flag(req, "dry_run") else None
        report = audit_now(context(), registry=registry, reconcile=reconcile)
        return json_response(report.to_dict())

    return guarded(handle, req)


@bp.function_name("latest_audit")
@bp.route(route="audit/latest", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def latest_audit(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.reports import latest_report

        return json_response(dict(latest_report(context())))

    return guarded(handle, req)


@bp.function_name("audit_report")
@bp.route(route="audit/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def audit_report(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.reports import get_report

        return json_response(dict(get_report(context(), req.route_params["id"])))

    return guarded(handle, req)


@bp.function_name("journal")
@bp.route(route="journal", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def journal(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.reports import journal_view, parse_since

        raw = (req.params.get("limit") or str(_DEFAULT_JOURNAL_LIMIT)).strip()
        if not raw.isdigit():
            raise InvalidInputError("limit must be a whole number")
        since = parse_since(req.params.get("since"))
        return json_response(journal_view(context(), since=since, limit=int(raw)))

    return guarded(handle, req)


@bp.function_name("registry_status")
@bp.route(route="registries/{registry}/status", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def registry_status(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.status import registry_status as status

        return json_response(status(context(), req.route_params["registry"]))

    return guarded(handle, req)


@bp.function_name("plan")
@bp.route(route="plan", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def plan(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.plans import parse_scope, plan_scope

        ctx = context()
        return json_response(plan_scope(ctx, parse_scope(ctx, _object(req))).to_dict())

    return guarded(handle, req)


@bp.function_name("apply")
@bp.route(route="apply", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def apply(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.plans import StalePlanError, apply_scope, parse_scope

        ctx = context()
        body = _object(req)
        plan_id = body.get("planId")
        if not isinstance(plan_id, str) or not plan_id.strip():
            raise InvalidInputError('"planId" is required: the id POST /api/plan returned')
        scope = parse_scope(ctx, body, extra=frozenset({"planId"}))
        try:
            applied = apply_scope(ctx, scope, plan_id.strip())
        except StalePlanError as stale:
            problem = {
                "type": "about:blank",
                "title": "StalePlan",
                "status": 409,
                "detail": stale.message,
                "code": stale.code,
                "plan": stale.current.to_dict(),
            }
            return func.HttpResponse(
                json.dumps(problem, sort_keys=True, default=str),
                status_code=409,
                mimetype="application/problem+json",
            )
        return json_response(applied.to_dict())

    return guarded(handle, req)


@bp.function_name("metrics")
@bp.route(route="metrics", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def metrics(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.reports import metrics_view

        return json_response(metrics_view(context()))

    return guarded(handle, req)
