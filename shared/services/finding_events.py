"""Findings raised and resolved between two audits, announced as events.

A reaction's findings are announced as it records them (records.py). An audit keeps its findings
in its report instead, and the same state gives the same findings every hour, so an audit
announces only the change since the previous report of the same registries: a finding (kind and
resource) it has that the previous one had not is `cachekeeper.FindingRaised`, one the previous
one had that it has not is `cachekeeper.FindingResolved`. Without a comparable previous report
(the first audit, another set of registries, a cut-off finding list) every finding it has is
raised and nothing is resolved: a resolution is never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.domain.plans import Finding, Severity
from shared.domain.product_events import finding_raised, finding_resolved
from shared.services.audit import AuditReport
from shared.services.context import Context
from shared.services.event_publisher import announce

__all__ = ["announce_assembled_changes", "announce_audit_changes"]


def _key(finding: Finding) -> tuple[str, str]:
    return finding.kind, finding.resource.lower()


def _previous_findings(
    previous: Mapping[str, Any] | None, registries: Sequence[str]
) -> list[Finding]:
    if previous is None or previous.get("findingsTruncated"):
        return []
    if sorted(previous.get("registries") or []) != sorted(registries):
        return []
    return _findings_of(previous)


def _findings_of(report: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    for item in report.get("findings") or []:
        try:
            found.append(Finding(
                str(item["kind"]), Severity(item["severity"]), str(item["resource"]),
                str(item["message"]), item.get("fix"), dict(item.get("evidence") or {}),
            ))  # fmt: skip
        except (KeyError, TypeError, ValueError):
            continue  # an unreadable old finding: it is neither raised nor resolved again
    return found


def announce_audit_changes(
    ctx: Context, previous: Mapping[str, Any] | None, report: AuditReport
) -> None:
    """Queue FindingRaised / FindingResolved for what changed since the `previous` report."""
    if ctx.events is None:
        return
    before = {_key(f): f for f in _previous_findings(previous, report.registries)}
    _announce(ctx, before, report.findings, origin=report.id, at=report.finished_at)


def announce_assembled_changes(
    ctx: Context, previous: Mapping[str, Any] | None, report: Mapping[str, Any], *, at: datetime
) -> None:
    """The same for a report assembled from a fanned-out run (shared/services/fanout.py); a
    partial one resolves nothing, since a registry it could not audit says nothing."""
    if ctx.events is None:
        return
    registries = [str(r) for r in report.get("registries") or []]
    complete = bool(report.get("complete"))
    before = {_key(f): f for f in _previous_findings(previous, registries)} if complete else {}
    _announce(ctx, before, _findings_of(report), origin=str(report["id"]), at=at)


def _announce(
    ctx: Context,
    before: Mapping[tuple[str, str], Finding],
    findings: Sequence[Finding],
    *,
    origin: str,
    at: datetime,
) -> None:
    now = {_key(f): f for f in findings}
    raised = [finding_raised(f, origin=origin, at=at) for k, f in now.items() if k not in before]
    resolved = [
        finding_resolved(f, origin=origin, at=at) for k, f in before.items() if k not in now
    ]
    announce(ctx, [*raised, *resolved])
