"""Audit findings that follow from one registry's rules, credential sets and the policy table,
and from secret expiry dates. Pure: the audit service observes, these functions judge.

Rotation drift (pins behind the newest valid version) and access (identities that cannot read)
come from the rotation and diagnosis planners, so the audit never has a second decision path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from shared.domain.cache_rules import MAX_CACHE_RULES, RuleSpec, derive_rule_name, find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, HealthStatus, SecretVersion
from shared.domain.plans import Finding, Severity
from shared.domain.policies import Policy, PolicyAction, PolicyIndex, RuleKind
from shared.domain.policy_targets import TargetMap
from shared.domain.refusals import CreateGuard
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.rotation import newest_valid
from shared.domain.secrets import SecretRef
from shared.domain.upstreams import login_server_mismatch

__all__ = [
    "blocked_wildcard_rules",
    "expiry_findings",
    "governing_policy",
    "login_server_findings",
    "missing_wildcard_rules",
    "registry_findings",
    "squatting_findings",
]

_LIMIT_WARNING = 0.9


def _policy_for(rule: CacheRule, policies: PolicyIndex, registry: str) -> Policy | None:
    """The allow row that governs the rule's source (what `decide` would pick), or None."""
    probe = (
        rule.source
        if not rule.source.is_wildcard
        else Upstream(rule.source.host, (*rule.source.path[:-1], "probe"))
    )
    winner = policies.winner(probe, registry)
    return winner if winner is not None and winner.action is PolicyAction.ALLOW else None


def governing_policy(rule: CacheRule, policies: PolicyIndex, registry: str) -> Policy | None:
    """The allow row that governs the rule (for planners beyond the audit's own judgements)."""
    return _policy_for(rule, policies, registry)


def _prescribed_wildcards(
    registry: ResourceId, rules: Sequence[CacheRule], policies: Sequence[Policy]
) -> list[RuleSpec]:
    """One rule per wildcard target the allow rows prescribe and no rule has; each name unique
    against the registry's rules and the names given before it in this plan."""
    specs: list[RuleSpec] = []
    taken = [r.name for r in rules]
    for policy in policies:
        if (
            policy.action is not PolicyAction.ALLOW
            or policy.rule_kind is not RuleKind.WILDCARD
            or not policy.enabled
        ):
            continue
        if policy.registry != "*" and policy.registry.lower() != registry.name.lower():
            continue
        target = TargetPath.parse((policy.target_template or "").replace("{path}", "*"))
        if any(r.target == target for r in rules) or any(s.target == target for s in specs):
            continue  # exists, or an earlier row of the table prescribes it already
        spec = RuleSpec(
            derive_rule_name(target, taken=taken), policy.upstream, target, policy.credential_set
        )
        taken.append(spec.name)
        specs.append(spec)
    return specs


def blocked_wildcard_rules(
    registry: ResourceId,
    rules: Sequence[CacheRule],
    policies: Sequence[Policy],
    *,
    guard: CreateGuard | None = None,
) -> list[Finding]:
    """Prescribed wildcard rules that must not be planned: repositories already sit under their
    prefix (ACR's TargetRepositoryPrefixMatchesExistingRegistries), or ARM refused them before
    and nothing they depend on has changed since."""
    if guard is None:
        return []
    findings: list[Finding] = []
    for spec in _prescribed_wildcards(registry, rules, policies):
        rule_id = str(registry.child("cacheRules", spec.name))
        blockers = guard.blockers(spec)
        refusal = None if blockers else guard.refusal(rule_id, spec, rules)
        if blockers:
            shown = ", ".join(str(b) for b in blockers[:10])
            findings.append(Finding("wildcard-rule-blocked", Severity.WARNING, rule_id,
                f"policy prescribes wildcard rule {spec.source} -> {spec.target}, but ACR refuses it while "
                f"{len(blockers)} repositor{'y' if len(blockers) == 1 else 'ies'} exist under {spec.target} ({shown})",
                f"delete them (cached images are pulled again: az acr repository delete -n {registry.name} "
                f"--repository <name>), or change the row's targetTemplate to an empty prefix",
                {"blockingRepositories": [str(b) for b in blockers]}))  # fmt: skip
        elif refusal is not None:
            findings.append(Finding("wildcard-rule-refused", Severity.WARNING, rule_id,
                f"ARM refused wildcard rule {spec.source} -> {spec.target} at {refusal.at.isoformat()} "
                f"({refusal.reason}); it is not asked again until the registry's repositories or rules change",
                "look for repositories under the prefix the catalog does not list, or fix what the refusal names",
                {"refusedAt": refusal.at.isoformat()}))  # fmt: skip
    return findings


def missing_wildcard_rules(
    registry: ResourceId,
    rules: Sequence[CacheRule],
    policies: Sequence[Policy],
    *,
    guard: CreateGuard | None = None,
) -> list[RuleSpec]:
    """Wildcard allow rows for this registry whose wildcard rule does not exist yet and can be
    created: with a `guard`, not those `blocked_wildcard_rules` names."""
    specs = _prescribed_wildcards(registry, rules, policies)
    if guard is None:
        return specs
    return [
        spec
        for spec in specs
        if not guard.blockers(spec)
        and guard.refusal(str(registry.child("cacheRules", spec.name)), spec, rules) is None
    ]


def login_server_findings(
    rules: Sequence[CacheRule], credential_sets: Sequence[CredentialSet]
) -> list[Finding]:
    """Rules whose credential set was made for another registry than the rule's upstream: ACR
    sends that registry's username and password to the upstream, and the pulls fail."""
    sets = {c.id: c for c in credential_sets}
    findings: list[Finding] = []
    for rule in rules:
        used = sets.get(rule.credential_set_id) if rule.credential_set_id is not None else None
        if used is None or not login_server_mismatch(used.login_server, rule.source.host):
            continue
        findings.append(Finding("credential-set-login-server", Severity.WARNING, str(rule.id),
            f"rule {rule.name} pulls from {rule.source.host} with credential set {used.name}, "
            f"whose loginServer is {used.login_server}",
            f"point the rule at a credential set for {rule.source.host}, or fix the set's loginServer",
            {"loginServer": used.login_server, "upstream": rule.source.host}))  # fmt: skip
    return findings


def registry_findings(
    registry: ResourceId,
    rules: Sequence[CacheRule],
    credential_sets: Sequence[CredentialSet],
    policies: Sequence[Policy],
    *,
    rule_limit: int = MAX_CACHE_RULES,
    index: PolicyIndex | None = None,
    guard: CreateGuard | None = None,
) -> list[Finding]:
    """Policy drift, unmanaged rules, dangling and unused credential sets, health, rule count,
    credential sets for another login server, missing and blocked wildcard rules.
    `index`: the policies' PolicyIndex, shared by the registries of one audit; `guard`: the
    registry's catalog and ARM's earlier refusals (without it, every missing rule is missing)."""
    findings: list[Finding] = []
    name = registry.name
    sets = {c.id: c for c in credential_sets}
    index = index or PolicyIndex(policies)
    for rule in rules:
        policy = _policy_for(rule, index, name)
        if policy is None:
            findings.append(Finding("unmanaged-rule", Severity.INFO, str(rule.id),
                f"rule {rule.name} ({rule.source} -> {rule.target}) is not allowed by any policy row",
                "add a policy row for it, or delete the rule if it is no longer wanted"))  # fmt: skip
        elif policy.credential_set and (
            rule.credential_set_id is None
            or rule.credential_set_id.name.lower() != policy.credential_set.lower()
        ):
            findings.append(Finding("drifted-rule", Severity.WARNING, str(rule.id),
                f"rule {rule.name} uses {rule.credential_set_id.name if rule.credential_set_id else 'no credential set'}; "
                f"policy {policy.id!r} prescribes {policy.credential_set}",
                f"az acr cache update -r {name} -n {rule.name} -c {policy.credential_set}"))  # fmt: skip
        if rule.credential_set_id is not None and rule.credential_set_id not in sets:
            findings.append(Finding("rule-missing-credential-set", Severity.ERROR, str(rule.id),
                f"rule {rule.name} points at credential set {rule.credential_set_id.name}, which does not exist",
                "recreate the credential set or point the rule at an existing one"))  # fmt: skip
    used = {r.credential_set_id for r in rules if r.credential_set_id is not None}
    for credential_set in credential_sets:
        if credential_set.id not in used:
            findings.append(Finding("unused-credential-set", Severity.INFO, str(credential_set.id),
                f"credential set {credential_set.name} is used by no cache rule", "delete it if it is no longer needed"))  # fmt: skip
        if credential_set.health.status is HealthStatus.UNHEALTHY:
            health = credential_set.health
            findings.append(Finding("unhealthy-credential-set", Severity.ERROR, str(credential_set.id),
                f"credential set {credential_set.name} is Unhealthy ({health.error_code or 'no code'}: {health.error_message or 'no message'})",
                f"GET /api/credential-sets/{name}/{credential_set.name}/access explains why",
                {"errorCode": health.error_code}))  # fmt: skip
    findings.extend(login_server_findings(rules, credential_sets))
    findings.extend(blocked_wildcard_rules(registry, rules, policies, guard=guard))
    for spec in missing_wildcard_rules(registry, rules, policies, guard=guard):
        findings.append(Finding("missing-rule", Severity.WARNING, str(registry.child("cacheRules", spec.name)),
            f"policy prescribes wildcard rule {spec.source} -> {spec.target}, which does not exist",
            f"POST /api/repositories with upstream {spec.source}, or let AUTO_RECONCILE create it"))  # fmt: skip
    if len(rules) >= rule_limit * _LIMIT_WARNING:
        findings.append(Finding("rule-limit", Severity.WARNING if len(rules) < rule_limit else Severity.ERROR, str(registry),
            f"{name} has {len(rules)} of at most {rule_limit} cache rules",
            "consolidate static rules under wildcard rules: ACR refuses a wildcard rule while any repository exists "
            "under its prefix, so delete the static rules' cached repositories first (their images are pulled again)"))  # fmt: skip
    return findings


def expiry_findings(
    versions: Mapping[SecretRef, Sequence[SecretVersion]],
    credential_sets: Sequence[CredentialSet],
    *,
    now: datetime,
    horizon: timedelta,
) -> list[Finding]:
    """Secrets whose version in use expires within the horizon, or has expired."""
    findings: list[Finding] = []
    readers: dict[SecretRef, list[CredentialSet]] = {}  # versionless secret -> sets, in order
    for credential_set in credential_sets:
        for key in dict.fromkeys(ref.versionless() for ref in credential_set.secrets()):
            readers.setdefault(key, []).append(credential_set)
    for secret, items in sorted(versions.items(), key=lambda pair: str(pair[0])):
        users = readers.get(secret.versionless(), [])
        for ref in sorted(
            {r for c in users for r in c.secrets() if r.same_secret(secret)}, key=str
        ):
            version = (
                next((v for v in items if v.ref == ref), None)
                if ref.is_versioned
                else newest_valid(items, now)
            )
            if version is None or version.expires is None:
                continue
            if version.expires <= now:
                severity, verb = Severity.CRITICAL, "expired"
            elif version.expires <= now + horizon:
                severity, verb = Severity.WARNING, "expires"
            else:
                continue
            affected = sorted(str(c.id) for c in users if ref in c.secrets())
            findings.append(Finding("secret-expiry", severity, str(ref),
                f"{secret} {verb} at {version.expires.isoformat()}; {len(affected)} credential set(s) use it",
                f"add a new version of {secret.name} in vault {secret.vault_name}",
                {"expires": version.expires.isoformat(), "credentialSets": affected}))  # fmt: skip
    return findings


def squatting_findings(
    registry: ResourceId,
    repositories: Sequence[TargetPath],
    rules: Sequence[CacheRule],
    policies: Sequence[Policy],
) -> list[Finding]:
    """Repositories that sit where a policy row would put a cache rule's target but that no rule
    serves: someone pushed there, and ACR will refuse the cache rule because the target exists."""
    findings: list[Finding] = []
    targets = TargetMap(policies)
    for repository in repositories:
        upstream = targets.upstream_for(repository, registry=registry.name)
        if upstream is None or find_serving_rule(repository, rules) is not None:
            continue  # not reserved by the policy, or cached content of an existing rule
        findings.append(Finding("squatted-target", Severity.WARNING, f"{registry.name}/{repository}",
            f"{repository} exists in {registry.name} but is reserved by the policy table for cached {upstream}; "
            f"a cache rule for {upstream} would be refused because its target already exists",
            f"move the images elsewhere and delete {repository} (az acr repository delete -n {registry.name} "
            f"--repository {repository}), or change the policy row's targetTemplate",
            {"upstream": str(upstream)}))  # fmt: skip
    return findings
