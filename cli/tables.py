"""Plain-text tables for the command line (`--output table`): aligned columns, long cells cut."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_apply", "render_audit", "render_plan", "render_status", "table"]

_MAX_CELL = 90


def _cell(value: Any) -> str:
    text = "-" if value is None or value == "" else " ".join(str(value).split())
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _short(resource: str) -> str:
    parts = resource.rstrip("/").split("/")
    return "/".join(parts[-3:]) if "/registries/" in resource.lower() else resource


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "(none)") -> str:
    """Rows under upper-case headers, columns padded to the widest cell."""
    if not rows:
        return f"  {empty}"
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join("  " + line.rstrip() for line in lines)


def _findings(findings: Sequence[Mapping[str, Any]]) -> str:
    order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    ranked = sorted(findings, key=lambda f: order.get(str(f["severity"]), 9))
    rows = [(f["severity"], f["kind"], _short(str(f["resource"])), f["message"]) for f in ranked]
    return table(("severity", "kind", "resource", "message"), rows, empty="no findings")


def _actions(actions: Sequence[Mapping[str, Any]]) -> str:
    rows = [(a["kind"], _short(str(a["resource"])), a["reason"]) for a in actions]
    return table(("action", "resource", "reason"), rows, empty="nothing to change")


def _pending(pending: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (
            p["action"],
            _short(str(p["credentialSet"] or p["resource"])),
            p["appliedAt"],
            p["nextCheckAt"],
            p["deadline"],
        )
        for p in pending
    ]
    return table(
        ("action", "credential set", "applied", "next check", "fails after"),
        rows,
        empty="nothing pending",
    )


def _outcomes(outcomes: Sequence[Mapping[str, Any]]) -> str:
    rows = [(o["status"], o["action"], _short(str(o["resource"])), o["reason"]) for o in outcomes]
    return table(("outcome", "action", "resource", "reason"), rows, empty="nothing applied")


def render_audit(report: Mapping[str, Any]) -> str:
    """An audit report: counts, findings, the plan of safe fixes, what was applied."""
    counts = report["counts"]
    parts = [
        f"audit {report['id']} of {', '.join(report['registries'])}: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("critical", "error", "warning", "info")),
        "",
        "Findings",
        _findings(report["findings"]),
        "",
        f"Plan {report['plan']['id']} (apply with: cachekeeper apply --plan-id {report['plan']['id']}"
        + (f" --registry {report['registries'][0]})" if len(report["registries"]) == 1 else ")"),
        _actions(report["plan"]["actions"]),
    ]
    if report["outcomes"]:
        parts += ["", "Applied", _outcomes(report["outcomes"])]
    return "\n".join(parts)


def render_plan(plan: Mapping[str, Any]) -> str:
    """A scoped plan: its id, actions with reasons, findings."""
    return "\n".join(
        [
            f"plan {plan['planId']} for {plan['scope']['kind']}: {plan['summary']}",
            "",
            "Actions",
            _actions(plan["actions"]),
            "",
            "Findings",
            _findings(plan["findings"]),
        ]
    )


def render_apply(applied: Mapping[str, Any]) -> str:
    """What applying a plan did."""
    return "\n".join(
        [
            f"applied plan {applied['plan']['planId']}: {applied['status']} "
            f"(journal signal {applied['signalId']})",
            _outcomes(applied["outcomes"]),
        ]
    )


def _secret(secret: Mapping[str, Any]) -> str:
    when = f" exp {str(secret['expires'])[:10]}" if secret.get("expires") else ""
    behind = " behind" if secret.get("behind") else ""
    return f"{secret['name']} [{secret['state']}{behind}]{when}"


def render_status(status: Mapping[str, Any]) -> str:
    """A registry's credential sets, rules and last actions."""
    sets = [
        (
            c["name"],
            c["health"]["status"] + (f" ({c['health']['errorCode']})" if c["health"]["errorCode"] else ""),
            _secret(c["secrets"]["username"]),
            _secret(c["secrets"]["password"]),
            ", ".join(c["usedBy"]) or "unused",
        )
        for c in status["credentialSets"]
    ]  # fmt: skip
    rules = [(r["name"], r["source"], r["target"], r["credentialSet"]) for r in status["rules"]]
    return "\n".join(
        [
            f"{status['registry']}: {status['ruleCount']} rule(s), "
            f"{len(status['credentialSets'])} credential set(s)",
            "",
            "Credential sets",
            table(("name", "health", "username", "password", "used by"), sets),
            "",
            "Cache rules",
            table(("name", "source", "target", "credential set"), rules),
            "",
            "Pending verification",
            _pending(status.get("pendingVerifications") or []),
            "",
            "Last actions",
            _outcomes(status["lastActions"]),
        ]
    )
