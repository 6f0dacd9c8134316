"""Read what decides whether a puller can pull, and judge it (`shared/domain/puller_access.py`).

For a repository a cache rule serves, the repository judged is the one in the registry (the
rule's target), which is what the signal names.
"""

from __future__ import annotations

from shared.domain.ids import ResourceId
from shared.domain.models import RoleDefinition
from shared.domain.plans import Action, Finding, Severity
from shared.domain.puller_access import (
    PullVerdict,
    evaluate_admin_pull,
    evaluate_entra_pull,
    evaluate_token_pull,
)
from shared.domain.puller_findings import puller_repair
from shared.domain.pullers import Puller, PullerKind, RegistryAuth, ScopeMap
from shared.errors import NotFoundError, PermanentError
from shared.services.context import Context
from shared.services.directory_lookup import directory_answer

__all__ = ["diagnose_puller", "judge_puller"]


def _roles(ctx: Context, registry: ResourceId, role_ids: set[str]) -> dict[str, RoleDefinition]:
    roles: dict[str, RoleDefinition] = {}
    for role_id in sorted(role_ids):
        try:
            roles[role_id] = ctx.access.role_definition(role_id, scope=registry)
        except NotFoundError:
            continue  # a deleted custom role grants nothing
    return roles


def judge_puller(
    ctx: Context, auth: RegistryAuth, repository: str, puller: Puller
) -> PullVerdict | None:
    """The verdict for `puller` on `repository`; None when the puller cannot be evaluated."""
    registry = auth.registry
    if puller.kind is PullerKind.ENTRA:
        assignments = ctx.access.role_assignments(registry, puller.id)
        roles = _roles(ctx, registry, {a.role_definition_id.lower() for a in assignments})
        return evaluate_entra_pull(
            principal_id=puller.id, auth=auth, repository=repository,
            assignments=assignments, roles=roles,
        )  # fmt: skip
    if puller.kind is PullerKind.ADMIN_USER:
        return evaluate_admin_pull(auth, repository)
    if puller.kind is PullerKind.TOKEN:
        tokens = {t.name.lower(): t for t in ctx.registry.list_tokens(registry)}
        token = tokens.get(puller.id.lower())
        scope_map: ScopeMap | None = None
        if token is not None and token.scope_map_id is not None:
            try:
                scope_map = ctx.registry.get_scope_map(token.scope_map_id)
            except NotFoundError:
                scope_map = None
        return evaluate_token_pull(
            token, scope_map, auth=auth, repository=repository, now=ctx.clock.now(),
            name=puller.id,
        )  # fmt: skip
    return None


def diagnose_puller(
    ctx: Context, registry: ResourceId, repository: str, puller: Puller, *, fix: bool
) -> tuple[list[Finding], list[Action]]:
    """Findings about the puller's rights on `repository` and, within policy, the grant."""
    try:
        auth = ctx.registry.registry_auth(registry)
        verdict = judge_puller(ctx, auth, repository, puller)
    except PermanentError as error:  # the credential-set side is still diagnosed
        return [Finding(
            "puller-side-unreadable", Severity.INFO, str(registry),
            f"cannot check whether {puller.describe()} may pull {repository}: {error}",
            "give the app's identity read access to the registry, its tokens and role assignments",
            {"identity": puller.to_dict(), "repository": repository},
        )], []  # fmt: skip
    if verdict is None:
        return [Finding(
            "puller-unknown", Severity.INFO, str(registry),
            f"pulls of {repository} by {puller.describe()} failed; cachekeeper cannot tell which "
            "Entra identity, admin user or token that is, so its rights were not checked",
            evidence={"identity": puller.to_dict(), "repository": repository},
        )], []  # fmt: skip
    if verdict.allowed:
        return [], []
    if verdict.puller.kind is not PullerKind.ENTRA:
        finding, action = puller_repair(verdict, auth, [], fix=fix)
        return [finding], [action] if action is not None else []
    rows = ctx.policies.list_pull_policies()
    directory = directory_answer(
        ctx, verdict.puller.id, rows, registry_name=registry.name, repository=repository
    )
    finding, action = puller_repair(verdict, auth, rows, fix=fix, directory=directory)
    return [finding], [action] if action is not None else []
