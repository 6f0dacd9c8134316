"""The audit's puller side, pure: what about a registry's own authentication needs attention.

- the admin user enabled (a single shared account with full rights: itself a finding);
- tokens whose passwords expire within the horizon, or that are disabled while cache rules exist
  for their scope;
- identities named by pull rows that cannot pull (they lost their rights);
- roles broader than pull held by identities that only pull, i.e. those pull rows name (report
  only: cachekeeper never removes an assignment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.access import role_allows, role_allows_action
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, RoleAssignment, RoleDefinition
from shared.domain.plans import Finding, Severity
from shared.domain.pull_policies import PullPolicy
from shared.domain.puller_access import evaluate_entra_pull
from shared.domain.pullers import RegistryAuth, RegistryToken, ScopeMap

__all__ = ["ObservedPullers", "puller_audit_findings"]

BEYOND_PULL = (
    "Microsoft.ContainerRegistry/registries/push/write",
    "Microsoft.ContainerRegistry/registries/artifacts/delete",
    "Microsoft.ContainerRegistry/registries/write",
)
BEYOND_PULL_DATA = (
    "Microsoft.ContainerRegistry/registries/repositories/content/write",
    "Microsoft.ContainerRegistry/registries/repositories/content/delete",
)


@dataclass(frozen=True, slots=True)
class ObservedPullers:
    """What the audit read about one registry's pullers."""

    auth: RegistryAuth
    tokens: tuple[RegistryToken, ...] = ()
    scope_maps: Mapping[ResourceId, ScopeMap] = field(default_factory=dict)
    rows: tuple[PullPolicy, ...] = ()  # the pull rows covering this registry
    assignments: Mapping[str, Sequence[RoleAssignment]] = field(default_factory=dict)
    roles: Mapping[str, RoleDefinition] = field(default_factory=dict)
    unreadable: tuple[Finding, ...] = ()  # what could not be read (then it is not judged)


def _scope_covers_rules(scope_map: ScopeMap | None, rules: Sequence[CacheRule]) -> bool:
    if scope_map is None:
        return False
    for action in scope_map.actions:
        text = action.strip().lower()
        if not text.startswith("repositories/"):
            continue
        pattern = text[len("repositories/") :].split("/content/", 1)[0].split("/metadata/", 1)[0]
        stem = pattern[:-1] if pattern.endswith("*") else pattern
        for rule in rules:
            target = str(rule.target).lower()
            rule_stem = target[:-1] if target.endswith("*") else target
            if stem.startswith(rule_stem) or rule_stem.startswith(stem):
                return True
    return False


def _token_findings(observed: ObservedPullers, rules: Sequence[CacheRule], now: datetime,
                    horizon: timedelta) -> list[Finding]:  # fmt: skip
    found: list[Finding] = []
    registry = observed.auth.registry.name
    for token in observed.tokens:
        scope_map = observed.scope_maps.get(token.scope_map_id) if token.scope_map_id else None
        if not token.enabled and _scope_covers_rules(scope_map, rules):
            found.append(Finding(
                "token-disabled", Severity.WARNING, str(token.id),
                f"token {token.name} is disabled while cache rules of {registry} serve repositories its scope map covers",
                f"az acr token update -n {token.name} -r {registry} --status enabled (or delete the token)",
            ))  # fmt: skip
            continue
        if not token.enabled or not token.password_expiries:
            continue
        last = [e for e in token.password_expiries if e is not None]
        if len(last) == len(token.password_expiries) and max(last) <= now + horizon:
            found.append(Finding(
                "token-password-expiring", Severity.WARNING, str(token.id),
                f"every password of token {token.name} expires by {max(last).isoformat()}",
                f"az acr token credential generate -n {token.name} -r {registry} --password2 --expiration-in-days 90",
                {"expiries": [e.isoformat() for e in last]},
            ))  # fmt: skip
    return found


def _probe(row: PullPolicy, rules: Sequence[CacheRule]) -> str:
    if row.repository is not None:
        return row.repository
    for rule in rules:
        target = str(rule.target)
        return target[:-1] + "probe" if target.endswith("*") else target
    return "probe"


def _row_findings(observed: ObservedPullers, rules: Sequence[CacheRule]) -> list[Finding]:
    found: list[Finding] = []
    auth = observed.auth
    for row in observed.rows:
        if row.principal_id is None or not row.enabled:
            continue  # service-principal-name rows name no one identity to check
        assignments = observed.assignments.get(row.principal_id, ())
        verdict = evaluate_entra_pull(
            principal_id=row.principal_id, auth=auth, repository=_probe(row, rules),
            assignments=assignments, roles=observed.roles,
        )  # fmt: skip
        if not verdict.allowed:
            found.append(Finding(
                "pull-row-identity-cannot-pull", Severity.WARNING, str(auth.registry),
                f"pull row {row.id} names {row.principal_id}, which cannot pull: {verdict.reason}",
                verdict.fix, {"identity": verdict.puller.to_dict(), "missing": verdict.missing, "policy": row.id},
            ))  # fmt: skip
        for assignment in assignments:
            role = observed.roles.get(assignment.role_definition_id.lower())
            if role is None or not assignment.scope.contains(auth.registry):
                continue
            if any(role_allows_action(role, a) for a in BEYOND_PULL) or any(
                role_allows(role, a) for a in BEYOND_PULL_DATA
            ):
                found.append(Finding(
                    "puller-role-broader-than-pull", Severity.INFO, assignment.id,
                    f"{row.principal_id} only pulls (pull row {row.id}) but holds {role.role_name!r} at "
                    f"{assignment.scope}, which can also push, delete or reconfigure; report only",
                    f"replace it with AcrPull: az role assignment delete --ids {assignment.id}",
                ))  # fmt: skip
    return found


def puller_audit_findings(
    observed: ObservedPullers,
    rules: Sequence[CacheRule],
    *,
    now: datetime,
    horizon: timedelta,
) -> list[Finding]:
    """The puller-side findings of one registry."""
    found: list[Finding] = list(observed.unreadable)
    auth = observed.auth
    if auth.admin_user_enabled:
        found.append(Finding(
            "admin-user-enabled", Severity.WARNING, str(auth.registry),
            f"the admin user of {auth.registry.name} is enabled: one shared account with full push and "
            "pull rights, meant for testing",
            f"az acr update -n {auth.registry.name} --admin-enabled false (after moving its users to Entra identities or tokens)",
        ))  # fmt: skip
    return found + _token_findings(observed, rules, now, horizon) + _row_findings(observed, rules)
