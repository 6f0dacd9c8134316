"""The audit's judgement: pure functions of what `audit_observation` read.

`judge` applies the domain's judgements (`shared.domain.audit`, the rotation planner) to the
observation; `audit_plan` joins them with the credential sets' diagnoses into the audit's findings
and its plan of safe fixes, whose id fingerprints the state it was computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.actions import CacheRuleCreation, SecretReadGrant
from shared.domain.audit import (
    expiry_findings,
    missing_wildcard_rules,
    registry_findings,
    squatting_findings,
)
from shared.domain.declared_plan import DeclaredPlan, plan_declared_sets
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, ActionKind, Finding, Plan, Severity, fingerprint
from shared.domain.policies import Policy, PolicyIndex
from shared.domain.puller_audit import puller_audit_findings
from shared.domain.rotation import plan_rotation
from shared.services.audit_observation import Observation, ObservedRegistry

__all__ = ["Judgement", "audit_plan", "judge"]


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the observation alone says (the diagnoses are judged apart)."""

    registry_findings: list[Finding]  # registry by registry
    expiring: list[Finding]
    rotation: Plan  # the rotation planner's, over every credential set
    create_rules: list[Action]
    rule_ids: str  # fingerprint of every rule id read
    declared: tuple[DeclaredPlan, ...] = ()  # the declared credential sets' plan, per registry
    declared_state: str = ""  # fingerprint of the declarations and what they are judged against


def judge(
    observation: Observation,
    policies: Sequence[Policy],
    *,
    now: datetime,
    horizon: timedelta,
    pin_disabled_latest: bool = False,
    progress: Callable[[str], None] | None = None,
    declared: Sequence[DeclaredCredentialSet] = (),
    vaults: Mapping[str, ResourceId] | None = None,
    fix: bool = False,
) -> Judgement:
    """Judge the observation against the policy table and the declared credential sets
    (`vaults`: allow-listed vault names to ids, `fix`: grants for created sets); `progress`
    hears each registry's name."""
    index = PolicyIndex(policies)  # one for every registry: they repeat their upstreams
    findings: list[Finding] = []
    planned: list[DeclaredPlan] = []
    for registry in observation.registries:
        planned.append(plan_declared_sets(
            registry.id, declared, sets=registry.sets, rules=registry.rules, index=index,
            versions=observation.versions, vaults=vaults or {}, fix=fix,
        ))  # fmt: skip
        findings += registry_findings(
            registry.id, registry.rules, registry.sets, policies, index=index, guard=registry.guard
        )
        findings += registry.unreadable or squatting_findings(
            registry.id, registry.repositories, registry.rules, policies
        )
        findings += registry.log_routing
        if registry.pullers is not None:
            findings += puller_audit_findings(
                registry.pullers, registry.rules, now=now, horizon=horizon
            )
        if progress:
            progress(registry.id.name)
    sets = observation.credential_sets
    rotation = plan_rotation(
        versions=observation.versions,
        credential_sets=sets,
        now=now,
        last_refresh=observation.last_refresh,
        refresh_when_unknown=False,
        announced=observation.announced,
        pin_disabled_latest=pin_disabled_latest,
    )
    return Judgement(
        findings,
        expiry_findings(observation.versions, sets, now=now, horizon=horizon),
        rotation,
        _missing_rules(observation.registries, policies),
        fingerprint(sorted(rule.id.key for r in observation.registries for rule in r.rules)),
        tuple(planned),
        _declared_state(observation, declared),
    )


def _declared_state(observation: Observation, declared: Sequence[DeclaredCredentialSet]) -> str:
    """What the declared plan depends on: the declarations, each set's secrets and identity,
    and which credential set each rule uses."""
    if not declared:
        return ""
    sets = sorted((c.id.key, str(c.username), str(c.password), c.principal_id or "")
                  for c in observation.credential_sets)  # fmt: skip
    rules = sorted((rule.id.key, rule.credential_set_id.key if rule.credential_set_id else "")
                   for r in observation.registries for rule in r.rules)  # fmt: skip
    return fingerprint([[d.to_dict() for d in declared], sets, rules])


def _missing_rules(observed: list[ObservedRegistry], policies: Sequence[Policy]) -> list[Action]:
    """Create-rule actions for the wildcard rules the policy table prescribes and ACR lacks."""
    return [
        Action(
            kind=ActionKind.CREATE_CACHE_RULE,
            resource=str(r.id.child("cacheRules", spec.name)),
            reason=f"policy prescribes {spec.source} -> {spec.target}",
            changes=CacheRuleCreation(spec),
        )
        for r in observed
        for spec in missing_wildcard_rules(r.id, r.rules, policies, guard=r.guard)
    ]


def audit_plan(
    registries: Sequence[ResourceId],
    observation: Observation,
    judgement: Judgement,
    diagnoses: Sequence[Plan],
) -> tuple[list[Finding], Plan]:
    """Every finding, in a stable order, and the plan of safe fixes: access repairs, rotations
    and missing wildcard rules, one action per kind and resource."""
    rotation = judgement.rotation
    findings: list[Finding] = [*observation.missing, *judgement.registry_findings]
    findings += judgement.expiring
    findings += rotation.findings
    findings += (
        Finding(
            "credential-set-behind",
            Severity.WARNING,
            a.resource,
            a.reason,
            "POST /api/apply with this audit's plan",
        )
        for a in rotation.actions
        if a.kind is ActionKind.UPDATE_CREDENTIAL_SET
    )
    declared = [a for p in judgement.declared for a in p.actions]
    findings += (f for p in judgement.declared for f in p.findings)
    access_actions: list[Action] = []
    for diagnosis in diagnoses:
        findings += (
            f for f in diagnosis.findings if f.kind != "secret-unusable"
        )  # expiry/rotation say it better
        access_actions += diagnosis.actions
    # a credential set is refreshed once even when both the rotation and the diagnosis ask for it;
    # a declaration's update of a set comes before theirs (it is what the operator asked for)
    # (two credential sets reading one secret get one grant each: the key names the identity)
    unique: dict[tuple[ActionKind, str, str], Action] = {}
    for action in (*declared, *access_actions, *rotation.actions, *judgement.create_rules):
        grantee = action.changes.principal_id if isinstance(action.changes, SecretReadGrant) else ""
        unique.setdefault((action.kind, action.resource.lower(), grantee.lower()), action)
    state = {"rotation": rotation.state_fingerprint, "diagnoses": [d.state_fingerprint for d in diagnoses],
             "rules": judgement.rule_ids}  # fmt: skip
    if judgement.declared_state:
        state["declared"] = judgement.declared_state
    plan = Plan(
        "audit:" + ",".join(sorted(r.name.lower() for r in registries)),
        tuple(unique.values()),
        tuple(findings),
        fingerprint(state),
    )
    return findings, plan
