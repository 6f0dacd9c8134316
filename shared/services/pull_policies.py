"""Use cases of the policy table's pull rows (`shared/domain/pull_policies.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.pull_policies import PullPolicy
from shared.errors import InvalidPolicyError
from shared.services.context import Context

__all__ = [
    "delete_pull_policy",
    "export_pull_rows",
    "list_pull_policies",
    "parse_pull_rows",
    "put_pull_policy",
    "replace_pull_rows",
]

MAX_PULL_ROWS = 2000


def list_pull_policies(ctx: Context) -> list[PullPolicy]:
    """Every pull row, in id order."""
    return ctx.policies.list_pull_policies()


def put_pull_policy(ctx: Context, policy_id: str, data: Any) -> PullPolicy:
    """Create or replace the pull row `policy_id` from its JSON form (an `id` in the body must
    be the same)."""
    if not isinstance(data, Mapping):
        raise InvalidPolicyError("a pull policy must be an object")
    if data.get("id", policy_id) != policy_id:
        raise InvalidPolicyError(f"the body's id {data.get('id')!r} is not {policy_id!r}")
    row = PullPolicy.from_dict({**data, "id": policy_id})
    ctx.policies.put_pull_policy(row)
    return row


def delete_pull_policy(ctx: Context, policy_id: str) -> None:
    """Delete a pull row; NotFoundError when absent."""
    ctx.policies.delete_pull_policy(policy_id)


def parse_pull_rows(data: Any) -> list[PullPolicy] | None:
    """The `pullPolicies` of an import document, all validated; None when it has none (an
    import without them leaves the pull rows as they are)."""
    if not isinstance(data, Mapping) or "pullPolicies" not in data:
        return None
    rows = data["pullPolicies"]
    if not isinstance(rows, list) or len(rows) > MAX_PULL_ROWS:
        raise InvalidPolicyError(f"pullPolicies must be a list of at most {MAX_PULL_ROWS} rows")
    parsed: list[PullPolicy] = []
    problems: list[str] = []  # every bad row is named, not only the first
    for index, row in enumerate(rows, start=1):
        try:
            parsed.append(PullPolicy.from_dict(row))
        except InvalidPolicyError as exc:
            problems.append(f"pull row {index}: {exc.message}")
    if problems:
        raise InvalidPolicyError("; ".join(problems))
    ids = [r.id for r in parsed]
    if len(set(ids)) != len(ids):
        raise InvalidPolicyError("pullPolicies: a row id repeats")
    return parsed


def replace_pull_rows(ctx: Context, rows: list[PullPolicy] | None, *, dry_run: bool) -> None:
    """Make the pull rows exactly `rows` (None: leave them)."""
    if rows is None or dry_run:
        return
    for row in rows:
        ctx.policies.put_pull_policy(row)
    wanted = {r.id for r in rows}
    for stale in ctx.policies.list_pull_policies():
        if stale.id not in wanted:
            ctx.policies.delete_pull_policy(stale.id)


def export_pull_rows(ctx: Context) -> dict[str, Any]:
    """The pull rows as the `pullPolicies` part of an export document (absent when there are
    none, so a table without pull rows exports as it always did)."""
    rows = [r.to_dict() for r in ctx.policies.list_pull_policies()]
    return {"pullPolicies": rows} if rows else {}
