"""Can this puller pull this repository? Pure evaluation, one way in at a time.

Entra identities: an assignment applies when its scope is the registry, its resource group, its
subscription or a management group (ARM listed it for the registry). In RBAC registry-permissions
mode its role must allow the action `registries/pull/read` (not excluded by `notActions`); in
ABAC repository-permissions mode that action is not honoured (AcrPull, AcrPush, Owner,
Contributor, Reader give no pull) and the role must allow the data action
`repositories/content/read`, with its condition on the repository name, if any, met. Admin user:
pulls while enabled, fails while disabled. Tokens: enabled, a password not expired, and a scope
map with `repositories/{repo}/content/read` (exact, a trailing `/*` prefix, or `*`).
For a repository a cache rule serves, the repository judged is the rule's target in the registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain.access import Verdict, role_allows, role_allows_action
from shared.domain.models import RoleAssignment, RoleDefinition
from shared.domain.pullers import (
    CONTENT_READ,
    PULL_READ,
    REPOSITORY_NAME,
    Puller,
    PullerKind,
    RegistryAuth,
    RegistryToken,
    ScopeMap,
    abac_repository_condition,
)

__all__ = [
    "PullVerdict",
    "condition_allows_repository",
    "evaluate_admin_pull",
    "evaluate_entra_pull",
    "evaluate_token_pull",
    "scope_map_allows",
]


@dataclass(frozen=True, slots=True)
class PullVerdict:
    """Whether `puller` can pull `repository`; when not, what is missing where and the fix."""

    verdict: Verdict
    puller: Puller
    repository: str
    reason: str
    missing: str | None = None  # the permission that no grant gives
    scope: str | None = None  # where it is missing (registry or scope map id)
    fix: str | None = None
    via: str | None = None  # the assignment or scope map that allows it

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def _applies(assignment: RoleAssignment, auth: RegistryAuth) -> bool:
    if assignment.scope.is_type("Microsoft.Management/managementGroups"):
        return True  # above every subscription ARM listed it for
    return assignment.scope.contains(auth.registry)


_COMPARISON = re.compile(
    re.escape(REPOSITORY_NAME)
    + r"\s+(StringEqualsIgnoreCase|StringStartsWithIgnoreCase|StringEquals|StringStartsWith)\s+'([^']*)'",
    re.IGNORECASE | re.ASCII,
)
_GUARD = re.compile(r"!\s*\(\s*ActionMatches\{'([^']+)'\}\s*\)", re.IGNORECASE | re.ASCII)


def condition_allows_repository(condition: str, repository: str) -> bool | None:
    """Whether an ABAC condition lets `repositories/content/read` of `repository` through: True,
    False, or None when the condition has a shape this evaluation does not know (then Azure
    decides at pull time). Known shape: the documented guard `(!(ActionMatches{...}) AND ...) OR`
    followed by repository-name comparisons joined with OR."""
    text = condition.strip()
    guarded = [m.group(1) for m in _GUARD.finditer(text)]
    if guarded and not any(g.lower() == CONTENT_READ.lower() for g in guarded):
        return True  # the condition does not restrict content reads
    rest = _GUARD.sub("", text)
    comparisons = list(_COMPARISON.finditer(rest))
    leftover = _COMPARISON.sub("", rest)
    leftover = re.sub(r"\bAND\b", "", leftover, count=max(0, len(guarded) - 1), flags=re.I | re.A)
    if not comparisons or re.sub(r"[()\s]|\bOR\b", "", leftover, flags=re.I | re.A):
        return None
    name = repository.lower()
    for match in comparisons:
        operator, value = match.group(1).lower(), match.group(2)
        exact = operator.startswith("stringequals")
        wanted, seen = (
            (value.lower(), name) if operator.endswith("ignorecase") else (value, repository)
        )
        if (seen == wanted) if exact else seen.startswith(wanted):
            return True
    return False


def _fix_entra(principal: str, auth: RegistryAuth, repository: str) -> str:
    if auth.abac_repository_permissions:
        return (
            f'az role assignment create --assignee-object-id {principal} --role "Container Registry '
            f'Repository Reader" --scope {auth.registry} --condition-version 2.0 --condition '
            f'"{abac_repository_condition(repository)}"'
        )
    return (
        f"az role assignment create --assignee {principal} --role AcrPull --scope {auth.registry}"
    )


def _judge(assignment: RoleAssignment, role: RoleDefinition, abac: bool, repository: str) -> str:
    """What one applicable assignment does for a pull: allowed, unverifiable, excluded (by its
    condition), legacy-only (a pull/read role in ABAC mode) or nothing."""
    if not abac:
        if not role_allows_action(role, PULL_READ):
            return "nothing"
        return "unverifiable" if assignment.condition else "allowed"
    if not role_allows(role, CONTENT_READ):
        return "legacy-only" if role_allows_action(role, PULL_READ) else "nothing"
    if not assignment.condition:
        return "allowed"
    allows = condition_allows_repository(assignment.condition, repository)
    return "unverifiable" if allows is None else "allowed" if allows else "excluded"


def evaluate_entra_pull(
    *,
    principal_id: str,
    auth: RegistryAuth,
    repository: str,
    assignments: Sequence[RoleAssignment] = (),
    roles: Mapping[str, RoleDefinition] | None = None,
) -> PullVerdict:
    """Whether the Entra identity can pull `repository` of the registry under its mode."""
    principal = principal_id.lower()
    puller = Puller(PullerKind.ENTRA, principal)
    known = {k.lower(): v for k, v in (roles or {}).items()}
    abac = auth.abac_repository_permissions
    seen: dict[str, tuple[RoleAssignment, RoleDefinition]] = {}
    for assignment in assignments:
        if assignment.principal_id.lower() != principal or not _applies(assignment, auth):
            continue
        role = known.get(assignment.role_definition_id.lower())
        if role is None:
            continue
        judged = _judge(assignment, role, abac, repository)
        if judged == "allowed":
            return PullVerdict(
                Verdict.ALLOWED, puller, repository,
                f"role {role.role_name!r} at {assignment.scope} allows pulls of {repository}",
                via=assignment.id,
            )  # fmt: skip
        seen.setdefault(judged, (assignment, role))
    missing = CONTENT_READ if abac else PULL_READ
    fix = _fix_entra(principal, auth, repository)
    if "unverifiable" in seen:
        conditional = seen["unverifiable"][0]
        return PullVerdict(
            Verdict.UNVERIFIABLE, puller, repository,
            f"only a conditional assignment at {conditional.scope} may allow pulls of {repository}; "
            "its condition cannot be verified here", missing, str(auth.registry), fix, conditional.id,
        )  # fmt: skip
    if "excluded" in seen:
        why = (
            f"the condition of the assignment at {seen['excluded'][0].scope} excludes {repository}"
        )
    elif "legacy-only" in seen:
        why = (
            f"role {seen['legacy-only'][1].role_name!r} grants {PULL_READ}, which a registry in "
            "ABAC repository-permissions mode does not honour"
        )
    else:
        why = f"no role assignment at the registry or above grants {missing}"
    return PullVerdict(
        Verdict.DENIED, puller, repository, f"{puller.describe()} cannot pull {repository}: {why}",
        missing, str(auth.registry), fix,
    )  # fmt: skip


def evaluate_admin_pull(auth: RegistryAuth, repository: str) -> PullVerdict:
    """The admin user pulls everything while enabled; while disabled its credentials fail.
    cachekeeper never enables it: the fix is another identity."""
    puller = Puller(PullerKind.ADMIN_USER, auth.registry.name)
    if auth.admin_user_enabled:
        return PullVerdict(
            Verdict.ALLOWED, puller, repository, "the admin user is enabled and may pull anything"
        )
    return PullVerdict(
        Verdict.DENIED, puller, repository,
        f"the admin user of {auth.registry.name} is disabled, so its credentials fail; "
        "cachekeeper never enables it",
        "adminUserEnabled", str(auth.registry),
        "pull as an Entra identity with AcrPull (or a repository-scoped token) instead of the admin user",
    )  # fmt: skip


def scope_map_allows(scope_map: ScopeMap, repository: str) -> bool:
    """True when some action of the scope map is `repositories/<pattern>/content/read` with a
    pattern that is the repository, a trailing `/*` prefix of it, or `*`."""
    name = repository.lower()
    for action in scope_map.actions:
        text = action.strip().lower()
        if not (text.startswith("repositories/") and text.endswith("/content/read")):
            continue
        pattern = text[len("repositories/") : -len("/content/read")]
        if pattern in ("*", name) or (pattern.endswith("/*") and name.startswith(pattern[:-1])):
            return True
    return False


def evaluate_token_pull(
    token: RegistryToken | None,
    scope_map: ScopeMap | None,
    *,
    auth: RegistryAuth,
    repository: str,
    now: datetime,
    name: str | None = None,
) -> PullVerdict:
    """Whether the token can pull `repository`: enabled, a live password, content/read on it."""
    token_name = token.name if token is not None else (name or "?")
    puller = Puller(PullerKind.TOKEN, token_name)
    registry = auth.registry.name

    def denied(why: str, missing: str, scope: str, fix: str) -> PullVerdict:
        return PullVerdict(
            Verdict.DENIED, puller, repository, f"token {token_name} cannot pull {repository}: {why}",
            missing, scope, fix,
        )  # fmt: skip

    if token is None:
        return denied(
            f"no token of that name exists in {registry}", "token", str(auth.registry),
            f"az acr token create -n {token_name} -r {registry} --repository {repository} content/read",
        )  # fmt: skip
    if not token.enabled:
        return denied(
            "the token is disabled", "status enabled", str(token.id),
            f"az acr token update -n {token.name} -r {registry} --status enabled",
        )  # fmt: skip
    if token.password_expiries and not token.usable_passwords(now):
        return denied(
            "every password of the token has expired", "a password that has not expired",
            str(token.id),
            f"az acr token credential generate -n {token.name} -r {registry} --password1 --expiration-in-days 90",
        )  # fmt: skip
    action = f"repositories/{repository}/content/read"
    if scope_map is None:
        return denied("the token has no scope map", action, str(token.id),
                      f"az acr token update -n {token.name} -r {registry} --scope-map <scope map>")  # fmt: skip
    if not scope_map_allows(scope_map, repository):
        return denied(
            f"scope map {scope_map.id.name} has no {action}", action, str(scope_map.id),
            f"az acr scope-map update -n {scope_map.id.name} -r {registry} --add-repository {repository} content/read",
        )  # fmt: skip
    return PullVerdict(
        Verdict.ALLOWED, puller, repository, f"scope map {scope_map.id.name} allows reading {repository}",
        via=str(scope_map.id),
    )  # fmt: skip
