"""The policy table as operators edit it: CRUD with ETags, whole-table import/export, and tests.

Every write validates first and writes nothing when anything is wrong: a row's own rules
(Policy.validate), duplicate ids, and credential set names checked against the managed
registries. A row for one registry must name a credential set that exists there; a row for every
registry (`*`) must name one that exists in at least one managed registry, and the registries that
lack it are returned as warnings (requests there are refused with that reason). When the registry
state cannot be read (throttled, unavailable, no access), the names are not checked and a warning
says so: ARM being down must not block a policy edit, and requests re-check anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared.domain.policies import Policy, PolicyAction
from shared.domain.upstreams import UpstreamAuth, auth_mode
from shared.errors import (
    AccessDeniedError,
    ConcurrencyError,
    InvalidInputError,
    InvalidPolicyError,
    NotFoundError,
    TransientError,
)
from shared.ports import StoredPolicy
from shared.services.context import Context, fan_out
from shared.services.policy_documents import (
    DOCUMENT_VERSION,
    ExportFormat,
    check_id,
    dump_document,
    load_document,
    parse_document,
)
from shared.services.pull_policies import export_pull_rows, parse_pull_rows, replace_pull_rows
from shared.services.repositories import parse_repository_request, request
from shared.services.results import Reaction
from shared.signals.repository_requests import RepositoryRequest

__all__ = [
    "ExportFormat",
    "ImportResult",
    "check_credential_sets",
    "delete_policy",
    "dump_document",
    "explain_request",
    "export_policies",
    "get_policy",
    "import_policies",
    "list_policies",
    "load_document",
    "parse_document",
    "put_policy",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import wrote (or, in a dry run, would write)."""

    policies: tuple[Policy, ...]
    created: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "count": len(self.policies),
            "created": list(self.created),
            "updated": list(self.updated),
            "deleted": list(self.deleted),
            "warnings": list(self.warnings),
        }


def list_policies(ctx: Context) -> list[StoredPolicy]:
    """Every row, in id order."""
    return ctx.policies.list_policies()


def get_policy(ctx: Context, policy_id: str) -> StoredPolicy:
    """One row; NotFoundError when absent."""
    return ctx.policies.get_policy(policy_id)


def put_policy(
    ctx: Context, policy_id: str, data: Any, *, if_match: str | None = None,
    changed_by: str | None = None,
) -> tuple[StoredPolicy, list[str]]:  # fmt: skip
    """Validate and write one row (ConcurrencyError when `if_match` is stale); returns the stored
    row and warnings."""
    if isinstance(data, Mapping) and "id" not in data:
        data = {**data, "id": policy_id}
    policy = Policy.from_dict(data)
    check_id(policy)
    if policy.id != policy_id:
        raise InvalidPolicyError(
            f"the body's id {policy.id!r} does not match the URL's {policy_id!r}"
        )
    policy = _stamped(ctx, policy, changed_by)
    warnings = check_credential_sets(ctx, [policy])
    _precondition(ctx, policy_id, if_match)
    return ctx.policies.put_policy(policy, if_match=if_match), warnings


def delete_policy(ctx: Context, policy_id: str, *, if_match: str | None = None) -> None:
    """Delete one row; NotFoundError when absent, ConcurrencyError when `if_match` is stale."""
    _precondition(ctx, policy_id, if_match)
    ctx.policies.delete_policy(policy_id, if_match=if_match)


def _precondition(ctx: Context, policy_id: str, if_match: str | None) -> None:
    # Checked here as well as by the store (which stays the atomic guard): an ETag that is not
    # even well formed, or a row that is gone, must read as "changed since", never as a failure.
    if if_match is None:
        return
    try:
        current = ctx.policies.get_policy(policy_id).etag
    except NotFoundError:
        raise ConcurrencyError(f"policy {policy_id!r} does not exist (If-Match)") from None
    if current != if_match:
        raise ConcurrencyError(f"policy {policy_id!r} changed since it was read")


def import_policies(
    ctx: Context, data: Any, *, dry_run: bool = False, changed_by: str | None = None,
    allow_empty: bool = False,
) -> ImportResult:  # fmt: skip
    """Replace the whole table with the document's rows: the version and every row are validated
    before anything is written, so one bad row writes nothing; a document that replaces the rows
    with nothing is refused unless `allow_empty` (`policy_documents.py`)."""
    policies = parse_document(data, allow_empty=allow_empty)
    pull_rows = parse_pull_rows(data)
    warnings = check_credential_sets(ctx, policies)
    current = {row.policy.id: row.policy for row in ctx.policies.list_policies()}
    wanted = {p.id: p for p in policies}
    created = tuple(sorted(wanted.keys() - current.keys()))
    deleted = tuple(sorted(current.keys() - wanted.keys()))
    updated = tuple(sorted(
        k for k in wanted.keys() & current.keys() if _content(wanted[k]) != _content(current[k])
    ))  # fmt: skip
    stamped = tuple(
        _stamped(ctx, p, changed_by) if p.id in created or p.id in updated else current[p.id]
        for p in policies
    )
    if not dry_run:
        ctx.policies.replace_all(stamped)
    replace_pull_rows(ctx, pull_rows, dry_run=dry_run)
    return ImportResult(stamped, created, updated, deleted, tuple(warnings), dry_run)


def export_policies(ctx: Context) -> dict[str, Any]:
    """The whole table as an import document (what import_policies reads back unchanged)."""
    rows = [row.policy.to_dict() for row in ctx.policies.list_policies()]
    return {"version": DOCUMENT_VERSION, "policies": rows, **export_pull_rows(ctx)}


def explain_request(ctx: Context, data: Any) -> dict[str, Any]:
    """Which row decides an upstream (or target path) and what the request would do in each
    registry asked about (every managed registry when none is named): a dry run of the real
    request, against current state."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("the request must be a JSON object")
    if data.get("registry") is not None or len(ctx.settings.managed_registries) == 1:
        wanted = [parse_repository_request(ctx, data)]
    else:
        wanted = [parse_repository_request(ctx, {**data, "registry": str(r)}) for r in ctx.settings.managed_registries]  # fmt: skip

    def run(item: RepositoryRequest) -> Reaction:
        return request(ctx, item, dry_run=True, signal_id="policy-test")

    results = fan_out(run, wanted)
    return {
        "results": [
            {"registry": item.registry.name, **reaction.to_dict()}
            for item, reaction in zip(wanted, results, strict=True)
        ]
    }


def check_credential_sets(ctx: Context, policies: Sequence[Policy]) -> list[str]:
    """Reject rows naming a credential set no registry they apply to has or is declared to have;
    return warnings (also for upstreams the support table does not know: allowed either way,
    ACR decides)."""
    named = [p for p in policies if p.action is PolicyAction.ALLOW and p.credential_set]
    if not named:
        return _unknown_upstreams(policies)
    registries = list(ctx.settings.managed_registries)
    managed = {r.name.lower() for r in registries}
    for policy in named:
        if policy.registry != "*" and policy.registry.lower() not in managed:
            raise InvalidPolicyError(
                f"policy {policy.id!r}: registry {policy.registry!r} is not one of the managed registries"
            )

    declared = [
        d.declaration for d in ctx.policies.list_declared_sets() if not d.declaration.absent
    ]

    def names(registry: Any) -> set[str] | None:
        # a set declared for the registry counts: the plan creates it before any rule names it
        to_create = {d.name for d in declared if d.applies_to(registry.name)}
        try:
            return {c.name.lower() for c in ctx.registry.list_credential_sets(registry)} | to_create
        except (TransientError, AccessDeniedError, NotFoundError) as exc:
            log.warning("cannot read credential sets of %s: %s", registry, exc)
            return None

    known = dict(zip((r.name.lower() for r in registries), fan_out(names, registries), strict=True))
    warnings = [f"credential sets of {name} could not be read; names were not checked there"
                for name, found in known.items() if found is None]  # fmt: skip
    for policy in named:
        wanted = (policy.credential_set or "").lower()
        scope = [policy.registry.lower()] if policy.registry != "*" else sorted(known)
        readable = [r for r in scope if known[r] is not None]
        having = [r for r in readable if wanted in (known[r] or set())]
        if readable and not having:
            where = f"registry {scope[0]}" if policy.registry != "*" else "any managed registry"
            raise InvalidPolicyError(
                f"policy {policy.id!r}: credential set {policy.credential_set!r} does not exist in {where}"
            )
        warnings += [f"policy {policy.id!r}: credential set {policy.credential_set!r} does not exist in {r}; requests there will be refused"
                     for r in readable if r not in having]  # fmt: skip
    return warnings + _unknown_upstreams(policies)


def _unknown_upstreams(policies: Sequence[Policy]) -> list[str]:
    return [f"policy {p.id!r}: upstream {p.upstream.host} is not in artifact cache's upstream support table; "
            "ACR decides whether it is supported and whether it needs a credential set"
            for p in policies if p.action is PolicyAction.ALLOW and auth_mode(p.upstream.host) is UpstreamAuth.UNKNOWN]  # fmt: skip


def _stamped(ctx: Context, policy: Policy, changed_by: str | None) -> Policy:
    return replace(policy, changed_by=changed_by or policy.changed_by, changed_at=ctx.clock.now())


def _content(policy: Policy) -> dict[str, Any]:
    data = policy.to_dict()
    data.pop("changedBy")
    data.pop("changedAt")
    return data
