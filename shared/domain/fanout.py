"""The fanned-out audit: one work item per registry, one result per work item, one report per run.

The audit timer starts a run (the registries it covers), enqueues one work item per registry, and
queue consumers audit one registry each. A run's report is assembled once every registry has a
result: complete when all were audited, partial when a work item was poisoned (the Functions host
moved it to the poison queue after `maxDequeueCount` failed attempts) or never came back, with
what is missing and why, each one also a finding. Pure: the service stores and reads the rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.domain.ids import ResourceId
from shared.domain.plans import Finding, Severity
from shared.domain.triggers import AUDIT_QUEUE, POISON_QUEUE
from shared.errors import InvalidInputError

__all__ = [
    "AUDIT_QUEUE",
    "MAX_WORK_ITEM_BYTES",
    "POISON_QUEUE",
    "RegistryResult",
    "Run",
    "WorkItem",
    "assemble",
    "missing_finding",
    "parse_work_item",
]

MAX_WORK_ITEM_BYTES = 4096  # far below a queue message's 64 KiB

ResultStatus = Literal["audited", "poisoned", "unfinished"]


@dataclass(frozen=True, slots=True)
class WorkItem:
    """Audit one registry as part of one run."""

    run_id: str
    registry: ResourceId

    def to_message(self) -> str:
        return json.dumps({"runId": self.run_id, "registry": str(self.registry)}, sort_keys=True)


def parse_work_item(body: bytes | str) -> WorkItem:
    """A work item from a queue message body; InvalidInputError naming what is wrong."""
    if len(body) > MAX_WORK_ITEM_BYTES:
        raise InvalidInputError(f"work item larger than {MAX_WORK_ITEM_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("work item is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"runId", "registry"}:
        raise InvalidInputError('work item must be {"runId": ..., "registry": ...}')
    run_id, registry = data["runId"], data["registry"]
    if not isinstance(run_id, str) or not run_id or len(run_id) > 128 or not run_id.isascii():
        raise InvalidInputError("work item runId must be a short ASCII string")
    if not isinstance(registry, str):
        raise InvalidInputError("work item registry must be a registry resource id")
    try:
        parsed = ResourceId.parse(registry)
    except ValueError as exc:
        raise InvalidInputError(f"work item registry: {exc}") from None
    return WorkItem(run_id, parsed)


@dataclass(frozen=True, slots=True)
class Run:
    """One fanned-out audit: its id, when it started and the registries it covers."""

    run_id: str
    started_at: datetime
    registries: tuple[ResourceId, ...]

    def work_items(self) -> list[WorkItem]:
        return [WorkItem(self.run_id, registry) for registry in self.registries]


@dataclass(frozen=True, slots=True)
class RegistryResult:
    """What one work item came to: the registry's findings and counts, or why there are none."""

    registry: ResourceId
    status: ResultStatus
    finished_at: datetime
    findings: tuple[Mapping[str, Any], ...] = ()  # Finding.to_dict() documents
    counts: Mapping[str, int] | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": str(self.registry),
            "status": self.status,
            "finishedAt": self.finished_at.isoformat(),
            "findings": [dict(f) for f in self.findings],
            "counts": dict(self.counts or {}),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegistryResult:
        status = data["status"]
        if status not in ("audited", "poisoned", "unfinished"):
            raise ValueError(f"unknown result status {status!r}")
        return cls(
            ResourceId.parse(str(data["registry"])),
            status,
            datetime.fromisoformat(str(data["finishedAt"])),
            tuple(dict(f) for f in data.get("findings") or []),
            {str(k): int(v) for k, v in (data.get("counts") or {}).items()},
            str(data.get("reason") or ""),
        )


def missing_finding(result: RegistryResult) -> Finding:
    """The finding that says a registry was not audited in this run, and why."""
    return Finding(
        f"audit-work-item-{result.status}",
        Severity.WARNING,
        str(result.registry),
        f"registry {result.registry.name} was not audited in this run: {result.reason}",
        "read the function's logs for the failed attempts; the next audit run tries again, "
        "or POST /api/audit with this registry audits it now",
        {"status": result.status},
    )


def assemble(
    run: Run, results: Mapping[str, RegistryResult], *, finished_at: datetime
) -> dict[str, Any]:
    """The run's report: every registry's findings, and for each registry without an audit, what
    is missing and why (a finding too). `results` is keyed by lower-case registry id; a registry
    without a result is reported as unfinished."""
    findings: list[Mapping[str, Any]] = []
    missing: list[dict[str, str]] = []
    totals: dict[str, int] = {"actions": 0, "applied": 0}
    for registry in run.registries:
        result = results.get(str(registry).lower())
        if result is None:
            result = RegistryResult(
                registry, "unfinished", finished_at, reason="no result came back for its work item"
            )
        if result.status == "audited":
            findings.extend(result.findings)
            for key in ("actions", "applied"):
                totals[key] += int((result.counts or {}).get(key, 0))
            continue
        findings.append(missing_finding(result).to_dict())
        missing.append({"registry": str(registry), "status": result.status, "why": result.reason})
    counts = {s.value: sum(1 for f in findings if f.get("severity") == s.value) for s in Severity}
    counts |= totals
    return {
        "id": run.run_id,
        "startedAt": run.started_at.isoformat(),
        "finishedAt": finished_at.isoformat(),
        "registries": [r.name for r in run.registries],
        "fannedOut": True,
        "complete": not missing,
        "missing": missing,
        "counts": counts,
        "findings": [dict(f) for f in findings],
        "findingsTruncated": False,
    }


def result_keys(registries: Sequence[ResourceId]) -> list[str]:
    """The keys `assemble` looks results up by."""
    return [str(r).lower() for r in registries]
