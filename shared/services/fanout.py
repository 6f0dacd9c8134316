"""The audit fanned out over a queue: the timer starts a run, queue consumers audit one registry
each, and the last result to arrive assembles the run's report (`shared/domain/fanout.py`).

    start_run(ctx)              the timer: record the run, return one message per registry
    audit_work_item(ctx, body)  the queue trigger: audit that registry, keep its result
    record_poisoned(ctx, body)  the poison-queue trigger: keep why the registry has no result

Each registry is judged by the same code as the synchronous audit (`observe_and_plan`,
`apply_plan`). A failing audit raises, so the Functions host retries the message and after
`maxDequeueCount` attempts moves it to the poison queue; a work item that cannot be read is
rejected for good (logged, acknowledged, nothing changed). A run still open when the next one
starts is assembled as partial first, naming the registries whose result never came.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from shared.domain.fanout import (
    RegistryResult,
    Run,
    WorkItem,
    assemble,
    missing_finding,
    parse_work_item,
)
from shared.domain.ids import ResourceId
from shared.errors import ConfigurationError, InvalidInputError, NotFoundError
from shared.observability import METRICS, log_fields
from shared.ports_fanout import FanoutStore
from shared.services.audit import apply_plan, observe_and_plan
from shared.services.context import Context
from shared.services.finding_events import announce_assembled_changes
from shared.services.verification import recheck_due

__all__ = [
    "assemble_if_done",
    "audit_work_item",
    "audited_registries",
    "record_poisoned",
    "start_run",
]

log = logging.getLogger(__name__)


def _store(ctx: Context) -> FanoutStore:
    if ctx.fanout is None:
        raise ConfigurationError(
            "STORAGE_CONNECTION", "this deployment keeps no audit runs", "wire a fan-out store"
        )
    return ctx.fanout


def start_run(ctx: Context) -> list[str]:
    """Close the runs still open (partial), record a new run over every managed registry and
    return its work items as queue messages."""
    store = _store(ctx)
    for stale in store.open_runs():
        assemble_if_done(ctx, stale.run_id, force=True)
    started = ctx.clock.now()
    run_id = f"audit-{started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    run = Run(run_id, started, audited_registries(ctx))
    store.save_run(run)
    log_fields(log, "audit run started", audit_id=run_id, registries=len(run.registries))
    return [item.to_message() for item in run.work_items()]


def audited_registries(ctx: Context) -> tuple[ResourceId, ...]:
    """MANAGED_REGISTRIES, then the registries REGISTRY_SCOPE finds (each once). A failed
    look-up fails the tick: nothing is enqueued and the next tick tries again."""
    listed = list(ctx.settings.managed_registries)
    scope = ctx.settings.registry_scope
    if scope is not None and ctx.discovery is not None:
        known = {str(r).lower() for r in listed}
        found = [r for r in ctx.discovery.registries(scope) if str(r).lower() not in known]
        log_fields(log, "registries discovered", found=len(found), listed=len(listed))
        listed += found
    return tuple(listed)


def _work_item(ctx: Context, body: bytes | str) -> tuple[WorkItem, Run] | None:
    """The work item and its run, or None (logged) when it cannot be acted on."""
    try:
        item = parse_work_item(body)
        run = _store(ctx).get_run(item.run_id)
    except (InvalidInputError, NotFoundError) as exc:
        log_fields(log, "audit work item rejected", level=logging.WARNING, reason=str(exc))
        return None
    if str(item.registry).lower() not in {str(r).lower() for r in run.registries}:
        log_fields(
            log, "audit work item rejected", level=logging.WARNING,
            reason=f"registry {item.registry.name} is not part of run {run.run_id}",
        )  # fmt: skip
        return None
    return item, run


def audit_work_item(ctx: Context, body: bytes | str) -> dict[str, Any] | None:
    """Audit the work item's registry and keep its result; returns the run's report when this
    result completed the run. Errors propagate (the host retries the message)."""
    found = _work_item(ctx, body)
    if found is None:
        return None
    item, run = found
    store = _store(ctx)
    if str(item.registry).lower() not in store.results(run.run_id):
        METRICS.count_outcomes(recheck_due(ctx))
        findings, plan, _ = observe_and_plan(ctx, [item.registry])
        applied = apply_plan(ctx, plan, signal_id=run.run_id) if ctx.settings.auto_reconcile else ()
        METRICS.count_outcomes(applied)
        result = RegistryResult(
            item.registry, "audited", ctx.clock.now(),
            tuple(f.to_dict() for f in findings),
            {"actions": len(plan.actions), "applied": len(applied)},
        )  # fmt: skip
        store.save_result(run.run_id, result)
        log_fields(
            log, "registry audited", audit_id=run.run_id, registry=item.registry.name,
            findings=len(findings), applied=len(applied),
        )  # fmt: skip
    return assemble_if_done(ctx, run.run_id)


def record_poisoned(ctx: Context, body: bytes | str, *, attempts: int) -> dict[str, Any] | None:
    """Keep why the work item's registry has no result (the host gave up after `attempts`), and
    journal it as a finding; returns the run's report when this completed the run."""
    found = _work_item(ctx, body)
    if found is None:
        return None
    item, run = found
    result = RegistryResult(
        item.registry, "poisoned", ctx.clock.now(),
        reason=f"its work item failed {attempts} times and was moved to the poison queue",
    )  # fmt: skip
    if _store(ctx).save_result(run.run_id, result):
        ctx.journal.record_finding(
            missing_finding(result), signal_id=run.run_id, at=result.finished_at
        )
        log_fields(
            log, "audit work item poisoned", level=logging.WARNING, audit_id=run.run_id,
            registry=item.registry.name, attempts=attempts,
        )  # fmt: skip
    return assemble_if_done(ctx, run.run_id)


def assemble_if_done(ctx: Context, run_id: str, *, force: bool = False) -> dict[str, Any] | None:
    """Assemble and keep the run's report once every registry has a result (or now, partial,
    with `force`); only the one caller that closes the run writes it."""
    store = _store(ctx)
    run = store.get_run(run_id)
    results = store.results(run_id)
    done = all(str(r).lower() in results for r in run.registries)
    if not (done or force) or not store.close_run(run_id):
        return None
    report = assemble(run, results, finished_at=ctx.clock.now())
    if ctx.reports is not None:
        previous = ctx.reports.latest_report() if ctx.events else None
        ctx.reports.save_report(report)
        announce_assembled_changes(ctx, previous, report, at=ctx.clock.now())
    log_fields(
        log, "audit run assembled", audit_id=run_id, complete=report["complete"],
        missing=len(report["missing"]), findings=len(report["findings"]),
    )  # fmt: skip
    return report
