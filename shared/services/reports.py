"""Audits on demand, kept audit reports, the journal and the counters, as the admin API, the
timer and the CLI use them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.domain.plans import Severity
from shared.errors import InvalidInputError, NotFoundError
from shared.observability import METRICS, log_fields
from shared.ports import ReportStore
from shared.services.audit import AuditReport, run_audit
from shared.services.context import Context
from shared.services.finding_events import announce_audit_changes
from shared.services.pull_failures import sweep_pending
from shared.services.verification import recheck_due

__all__ = [
    "MAX_JOURNAL_LIMIT",
    "audit_now",
    "get_report",
    "journal_view",
    "latest_report",
    "metrics_view",
    "parse_since",
]

MAX_JOURNAL_LIMIT = 1000
log = logging.getLogger(__name__)
_REPORT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _store(ctx: Context) -> ReportStore:
    if ctx.reports is None:
        raise NotFoundError("audit reports are not kept in this deployment (no report store)")
    return ctx.reports


def latest_report(ctx: Context) -> Mapping[str, Any]:
    """The most recent audit report; NotFoundError when no audit ran yet."""
    report = _store(ctx).latest_report()
    if report is None:
        raise NotFoundError("no audit has run yet: POST /api/audit runs one")
    return report


def get_report(ctx: Context, report_id: str) -> Mapping[str, Any]:
    """One audit report by id; NotFoundError when absent."""
    if not report_id or len(report_id) > 128 or not set(report_id) <= _REPORT_ID_CHARS:
        raise NotFoundError(f"report {report_id[:128]!r} does not exist")
    return _store(ctx).get_report(report_id)


def parse_since(text: str | None) -> datetime | None:
    """An ISO 8601 instant (UTC when no offset is given); InvalidInputError when malformed."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            "since must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def journal_view(ctx: Context, *, since: datetime | None, limit: int) -> dict[str, Any]:
    """Outcomes and findings newest first, at or after `since`, at most `limit` of each."""
    if not 1 <= limit <= MAX_JOURNAL_LIMIT:
        raise InvalidInputError(f"limit must be from 1 to {MAX_JOURNAL_LIMIT}")
    outcomes = ctx.journal.outcomes(since=since, limit=limit)
    findings = ctx.journal.recorded_findings(since=since, limit=limit)
    return {
        "since": since.isoformat() if since else None,
        "limit": limit,
        "outcomes": [o.to_dict() for o in outcomes],
        "findings": [f.to_dict() for f in findings],
    }


def metrics_view(ctx: Context) -> dict[str, Any]:
    """This worker's counters, and the open findings of the latest audit by severity."""
    view = METRICS.snapshot()
    report = ctx.reports.latest_report() if ctx.reports is not None else None
    if report is not None:
        counts = report.get("counts") or {}
        view["openFindings"] = {s.value: int(counts.get(s.value, 0)) for s in Severity}
        view["latestAudit"] = {"id": report.get("id"), "finishedAt": report.get("finishedAt")}
    else:
        view["latestAudit"] = None
    return view


def audit_now(
    ctx: Context,
    *,
    registry: str | None = None,
    reconcile: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Audit one managed registry (by name) or all of them; count and log what it found and did.
    The changes pending verification that are due, and the pull failures left pending, are
    re-checked first (a later audit may finish what the verification timer did not); the findings
    raised and resolved since the previous report are queued as events (finding_events.py)."""
    targets = [ctx.managed_registry(registry)] if registry else None
    METRICS.count_outcomes(recheck_due(ctx))
    for pending in sweep_pending(ctx):
        METRICS.count_outcomes(pending.outcomes)
    previous = ctx.reports.latest_report() if ctx.reports and ctx.events else None
    report = run_audit(ctx, registries=targets, reconcile=reconcile, progress=progress)
    announce_audit_changes(ctx, previous, report)
    METRICS.count_outcomes(report.outcomes)
    if targets is None:
        METRICS.set_open_findings({s.value: report.counts.get(s.value, 0) for s in Severity})
    log_fields(
        log,
        "audit finished",
        audit_id=report.id,
        registry=registry or "*",
        findings=len(report.findings),
        actions=report.counts.get("actions", 0),
        applied=report.counts.get("applied", 0),
        outcome="clean" if report.clean else "findings",
    )
    return report
