"""The audit's reads of a registry's puller side: its authentication settings, its tokens and
their scope maps, the pull rows covering it and the role assignments of the identities they name.

A part that cannot be read (an older API, no permission) becomes an info finding instead of
failing the audit; `shared/domain/puller_audit.py` judges the rest.
"""

from __future__ import annotations

from shared.domain.ids import ResourceId
from shared.domain.models import RoleAssignment, RoleDefinition
from shared.domain.plans import Finding, Severity
from shared.domain.puller_audit import ObservedPullers
from shared.domain.pullers import RegistryAuth, RegistryToken, ScopeMap
from shared.errors import NotFoundError, PermanentError
from shared.services.context import Context

__all__ = ["observe_pullers"]


def _unreadable(registry: ResourceId, what: str, error: Exception) -> Finding:
    return Finding(
        "puller-side-unreadable", Severity.INFO, str(registry),
        f"cannot read the {what} of {registry.name}, so they were not audited: {error}",
        "give the app's identity read access to the registry (its tokens and scope maps) and role assignments",
    )  # fmt: skip


def observe_pullers(ctx: Context, registry: ResourceId) -> ObservedPullers:
    """Everything `puller_audit_findings` judges for one registry."""
    unreadable: list[Finding] = []
    try:
        auth = ctx.registry.registry_auth(registry)
    except PermanentError as error:
        return ObservedPullers(
            RegistryAuth(registry, False, False),
            unreadable=(_unreadable(registry, "authentication settings", error),),
        )
    tokens: list[RegistryToken] = []
    scope_maps: dict[ResourceId, ScopeMap] = {}
    try:
        tokens = ctx.registry.list_tokens(registry)
    except NotFoundError:
        tokens = []  # the registry was just read: no tokens collection means no tokens
    except PermanentError as error:
        unreadable.append(_unreadable(registry, "tokens", error))
    try:
        for scope_map_id in sorted({t.scope_map_id for t in tokens if t.scope_map_id}, key=str):
            scope_maps[scope_map_id] = ctx.registry.get_scope_map(scope_map_id)
    except PermanentError as error:
        unreadable.append(_unreadable(registry, "scope maps", error))
    rows = tuple(
        r for r in ctx.policies.list_pull_policies()
        if r.enabled and r.registry.lower() in ("*", registry.name.lower())
    )  # fmt: skip
    assignments: dict[str, list[RoleAssignment]] = {}
    roles: dict[str, RoleDefinition] = {}
    try:
        for principal in sorted({r.principal_id for r in rows if r.principal_id}):
            assignments[principal] = ctx.access.role_assignments(registry, principal)
            for role_id in {a.role_definition_id.lower() for a in assignments[principal]} - set(
                roles
            ):
                try:
                    roles[role_id] = ctx.access.role_definition(role_id, scope=registry)
                except PermanentError:
                    continue  # a deleted custom role grants nothing
    except PermanentError as error:
        unreadable.append(_unreadable(registry, "pull-row identities' role assignments", error))
    return ObservedPullers(
        auth, tuple(tokens), scope_maps, rows, assignments, roles, tuple(unreadable)
    )
