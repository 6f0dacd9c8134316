"""The audit's findings on the demo and bench fleets, normalised, for the golden test
(tests/integration/test_audit_golden.py). `python -m tests.integration.audit_golden` rewrites
the fixtures in tests/fixtures/audit_golden/ from the current code."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bench import scenarios as sc
from bench.wiring import bench_settings
from bench.wiring import sandbox_context as bench_context
from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.policies import Policy
from shared.services.audit import AuditReport, run_audit
from tests.integration.app_context import demo_settings, sandbox_context

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audit_golden"
DEMO = Path(__file__).resolve().parents[2] / "sandbox" / "scenarios" / "demo.yaml"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
INSTANT: dict[str, float] = {"health_refresh_seconds": 0.0, "rbac_delay_seconds": 0.0}


def normalised(report: AuditReport) -> dict[str, Any]:
    """What is stable in a report: findings, planned actions, outcomes' statuses, counts."""
    findings = sorted(
        (f.to_dict() for f in report.findings),
        key=lambda f: json.dumps(f, sort_keys=True, default=str),
    )
    actions = sorted(
        (
            {"kind": a.kind.value, "resource": a.resource, "reason": a.reason}
            for a in report.plan.actions
        ),
        key=lambda a: json.dumps(a, sort_keys=True),
    )
    outcomes = sorted(
        ({"resource": o.resource, "status": o.status.value} for o in report.outcomes),
        key=lambda o: json.dumps(o, sort_keys=True),
    )
    data = {
        "findings": findings,
        "actions": actions,
        "outcomes": outcomes,
        "counts": report.counts,
        "partial": report.partial,
    }
    # the scenario's dates are relative to the wall clock when the sandbox loads
    return json.loads(_TIME.sub("<time>", json.dumps(data, default=str)))


def _demo(mode: str) -> list[dict[str, Any]]:
    sandbox = Sandbox(yaml.safe_load(DEMO.read_text()), page_size=2, **INSTANT)
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    settings = demo_settings(REMEDIATION_MODE=mode)
    ctx = sandbox_context(sandbox, settings=settings, policies=policies, journal=MemoryJournal())
    ctx = replace(ctx, reports=MemoryReportStore())
    if mode == "report":
        return [normalised(run_audit(ctx, reconcile=False))]
    first = run_audit(ctx, reconcile=True)
    return [normalised(first), normalised(run_audit(ctx, reconcile=False))]


def _revoked_grant(doc: dict[str, Any]) -> None:
    doc["roleAssignments"] = [
        a for a in doc["roleAssignments"]
        if a["principal"] != {"registry": "benchreg00", "credentialSet": sc.set_name(1)}
    ]  # fmt: skip


def _stale_version(doc: dict[str, Any]) -> None:
    username = sc.secret_names(0)[0]
    for vault in doc["vaults"]:
        for secret in vault["secrets"]:
            if secret["name"] == username:
                secret["versions"].append({"created": "-1d", "exp": "+400d"})


def _missing_rule(doc: dict[str, Any]) -> None:
    doc["policies"][0]["ruleKind"] = "wildcard"  # its wildcard rule exists nowhere


def _drifted_rule(doc: dict[str, Any]) -> None:
    rules = doc["registries"][1]["cacheRules"]
    rules[1]["credentialSet"] = sc.set_name(2)  # not the set its policy prescribes
    rules[2]["source"] = "docker.io/elsewhere/img"  # no policy covers it


def _expired_secret(doc: dict[str, Any]) -> None:
    password = sc.secret_names(2)[1]
    for vault in doc["vaults"]:
        for secret in vault["secrets"]:
            if secret["name"] == password:
                secret["versions"][-1]["exp"] = "+5d"


BENCH: dict[str, Callable[[dict[str, Any]], None] | None] = {
    "healthy": None,
    "revoked-grant": _revoked_grant,
    "stale-version": _stale_version,
    "missing-rule": _missing_rule,
    "drifted-rule": _drifted_rule,
    "expiring-secret": _expired_secret,
}


def _bench(variant: str, mode: str) -> list[dict[str, Any]]:
    doc = copy.deepcopy(sc.fleet(registries=2, sets=5, rules=6))
    change = BENCH[variant]
    if change is not None:
        change(doc)
    sandbox = Sandbox(doc, page_size=2, **INSTANT)
    settings = bench_settings(sc.registry_names(2), sc.VAULTS, REMEDIATION_MODE=mode)
    ctx = bench_context(sandbox, settings)
    if mode == "report":
        return [normalised(run_audit(ctx, reconcile=False))]
    first = run_audit(ctx, reconcile=True)
    return [normalised(first), normalised(run_audit(ctx, reconcile=False))]


CASES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "demo-report": lambda: _demo("report"),
    "demo-fix": lambda: _demo("fix"),
    **{f"bench-{v}-report": (lambda v=v: _bench(v, "report")) for v in BENCH},  # type: ignore[misc]
    **{f"bench-{v}-fix": (lambda v=v: _bench(v, "fix")) for v in BENCH if v != "healthy"},  # type: ignore[misc]
}


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, case in CASES.items():
        (FIXTURES / f"{name}.json").write_text(json.dumps(case(), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
