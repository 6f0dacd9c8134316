"""The audit's read phase: everything its judgement and diagnoses need, each read once.

1. every registry, through a bounded fan-out: its cache rules, its credential sets and its
   repositories (the squatting check), one registry per task;
2. the version metadata of every secret those credential sets name, each secret once however
   many registries read it;
3. every allow-listed vault: its permission model and, for an RBAC vault, its one list of
   everyone's role assignments (`RoleAssignmentLists(whole_vault=True)`), which answers every
   identity's access checks in that vault. A vault that no credential set reads cannot fail the
   audit; a failure to read one that is read is raised.

With `partial=True` (the audit), a registry whose reads would have to wait out ARM's throttling
past the invocation's deadline (`ThrottleBudgetError`) is left out and named in `skipped` with the
reason; the other registries are still judged. Without it (plans) the error is raised: a plan is
never made from part of its scope.

Nothing here judges: `audit_judgement` does, from what this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, SecretVersion, VaultAccess
from shared.domain.plans import Finding, Severity
from shared.domain.puller_audit import ObservedPullers
from shared.domain.refusals import CreateGuard
from shared.domain.repositories import TargetPath
from shared.domain.secrets import SecretRef
from shared.errors import CachekeeperError, PermanentError, ThrottleBudgetError
from shared.services.access_checks import RoleAssignmentLists
from shared.services.context import Context, fan_out
from shared.services.diagnosis import vault_id_for
from shared.services.log_routing import registry_log_routing
from shared.services.puller_audit import observe_pullers
from shared.services.rotations import announced_versions, last_refreshes, observe_versions
from shared.services.rule_refusals import create_guard

__all__ = ["Observation", "ObservedRegistry", "observe"]


@dataclass(frozen=True, slots=True)
class ObservedRegistry:
    """One registry as read: its rules, credential sets and repositories."""

    id: ResourceId
    rules: list[CacheRule]
    sets: list[CredentialSet]
    repositories: list[TargetPath]
    unreadable: list[Finding]  # why the repositories could not be read (then they are empty)
    guard: CreateGuard | None = None  # what a create depends on: the catalog, ARM's refusals
    log_routing: tuple[Finding, ...] = ()  # whether its pull logs reach a workspace
    pullers: ObservedPullers | None = None  # admin user, tokens, pull-row identities


@dataclass(frozen=True, slots=True)
class Observation:
    """What one audit read, in the order of the registries it was asked about."""

    registries: list[ObservedRegistry]
    versions: dict[SecretRef, list[SecretVersion]]  # versionless secret -> its versions
    missing: list[Finding]  # secrets that do not exist
    vaults: dict[ResourceId, VaultAccess]  # the allow-listed vaults the credential sets read
    lists: RoleAssignmentLists  # every RBAC vault's list of everyone's assignments, loaded
    last_refresh: dict[ResourceId, datetime]  # from the journal, for the rotation planner
    announced: dict[SecretRef, dict[str, datetime]]  # versions rotation events named, and when
    skipped: dict[ResourceId, str] = field(default_factory=dict)  # not read (partial), and why

    @property
    def credential_sets(self) -> list[CredentialSet]:
        """Every credential set, registry by registry."""
        return [c for r in self.registries for c in r.sets]


def observe(
    ctx: Context, registries: Sequence[ResourceId], *, partial: bool = False
) -> Observation:
    """Read everything the audit of `registries` judges (`partial`: see the module docstring)."""
    outcomes = fan_out(lambda registry: _read_registry_or_why(ctx, registry, partial), registries)
    observed = [r for r in outcomes if isinstance(r, ObservedRegistry)]
    skipped = {
        registry: str(why)
        for registry, why in zip(registries, outcomes, strict=True)
        if isinstance(why, ThrottleBudgetError)
    }
    sets = [c for r in observed for c in r.sets]
    secrets = [secret for c in sets for secret in c.secrets()]
    versions, missing = observe_versions(ctx, secrets)  # a missing secret is a finding
    lists = RoleAssignmentLists(ctx, whole_vault=True)
    allowed = list(ctx.settings.vault_allowlist)
    read = fan_out(lambda vault: _read_vault(ctx, lists, vault), allowed)
    used = {vault_id_for(ctx, secret) for secret in secrets}
    vaults: dict[ResourceId, VaultAccess] = {}
    for vault, access in zip(allowed, read, strict=True):
        if vault not in used:
            continue  # read because it is allow-listed; nothing depends on it
        if isinstance(access, CachekeeperError):
            raise access
        vaults[vault] = access
    announced = announced_versions(ctx, list(versions))
    return Observation(
        observed, versions, missing, vaults, lists, last_refreshes(ctx, sets), announced, skipped
    )


def _read_registry_or_why(
    ctx: Context, registry: ResourceId, partial: bool
) -> ObservedRegistry | ThrottleBudgetError:
    try:
        return _read_registry(ctx, registry)
    except ThrottleBudgetError as error:
        if not partial:
            raise
        return error


def _read_registry(ctx: Context, registry: ResourceId) -> ObservedRegistry:
    rules = ctx.registry.list_cache_rules(registry)
    sets = ctx.registry.list_credential_sets(registry)
    pullers = observe_pullers(ctx, registry)  # first: its registry read gives the login server
    repositories, unreadable = _repositories(ctx, registry)
    guard = create_guard(ctx, registry, None if unreadable else repositories)
    routing = tuple(registry_log_routing(ctx, registry))
    return ObservedRegistry(
        registry, rules, sets, repositories, unreadable, guard, routing, pullers
    )


def _repositories(ctx: Context, registry: ResourceId) -> tuple[list[TargetPath], list[Finding]]:
    """The registry's repositories, or a finding saying why the squatting check was skipped."""
    try:
        return ctx.registry.list_repositories(registry), []
    except PermanentError as error:
        return [], [
            Finding(
                "repositories-unreadable",
                Severity.INFO,
                str(registry),
                f"cannot list the repositories of {registry.name}, so squatted policy targets were not checked: {error}",
                "give the app's identity catalog read access (AcrPull) on the registry",
            )
        ]


def _read_vault(
    ctx: Context, lists: RoleAssignmentLists, vault: ResourceId
) -> VaultAccess | CachekeeperError:
    """The vault's model (and, for RBAC, its assignments loaded into `lists`), or why not:
    `observe` decides whether the failure matters."""
    try:
        access = ctx.access.vault_access(vault)
        if access.rbac:
            lists.load_vault(vault)
    except CachekeeperError as error:
        return error
    return access
