"""Use cases of the policy table's pull rows (`shared/domain/pull_policies.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.pull_policies import PullPolicy
from shared.errors import InvalidPolicyError
from shared.services.context import Context

__all__ = ["delete_pull_policy", "list_pull_policies", "put_pull_policy"]


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
