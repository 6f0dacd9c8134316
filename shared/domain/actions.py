"""What each kind of action changes, as typed payloads: an applier reads fields, never strings.

Each payload renders to the JSON a plan shows (`to_dict`), which is also what a plan's id is
derived from, and names the credential set it concerns (for narrowing a plan to one set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.cache_rules import RuleSpec
from shared.domain.secrets import SecretRef

__all__ = [
    "ActionPayload",
    "CacheRuleCreation",
    "CredentialSetCreation",
    "CredentialSetDeletion",
    "CredentialSetSecrets",
    "PullGrant",
    "RuleCredentialSetMove",
    "SecretReadGrant",
]


@dataclass(frozen=True, slots=True)
class CredentialSetSecrets:
    """`update-credential-set` and `refresh-credential-set`: the username and password secret
    identifiers the credential set has (`*_before`) and is given (a refresh re-sends the same)."""

    username_before: SecretRef
    password_before: SecretRef
    username: SecretRef
    password: SecretRef

    @classmethod
    def resend(cls, username: SecretRef, password: SecretRef) -> CredentialSetSecrets:
        """The same identifiers again: ACR re-reads the secrets (versionless ones move on)."""
        return cls(username, password, username, password)

    @property
    def credential_set(self) -> str | None:
        return None  # the action's resource is the credential set itself

    def before(self) -> dict[str, str]:
        return {"username": str(self.username_before), "password": str(self.password_before)}

    def after(self) -> dict[str, str]:
        return {"username": str(self.username), "password": str(self.password)}

    def to_dict(self) -> dict[str, Any]:
        before, after = self.before(), self.after()
        return {role: {"from": before[role], "to": after[role]} for role in before}


@dataclass(frozen=True, slots=True)
class SecretReadGrant:
    """`grant-secret-read`: a role assignment at the action's scope (a secret) for an identity."""

    principal_id: str
    role_definition_id: str
    credential_set: str  # the resource id of the credential set whose identity it is

    def to_dict(self) -> dict[str, Any]:
        return {
            "principalId": self.principal_id,
            "roleDefinitionId": self.role_definition_id,
            "credentialSet": self.credential_set,
        }


@dataclass(frozen=True, slots=True)
class CacheRuleCreation:
    """`create-cache-rule`: the rule to create, and the policy row that prescribes it."""

    rule: RuleSpec
    policy: str | None = None

    @property
    def credential_set(self) -> str | None:
        return self.rule.credential_set

    def to_dict(self) -> dict[str, Any]:
        return {
            "sourceRepository": str(self.rule.source),
            "targetRepository": str(self.rule.target),
            "credentialSet": self.rule.credential_set,
            "policy": self.policy,
        }


@dataclass(frozen=True, slots=True)
class PullGrant:
    """`grant-pull`: a role assignment at the action's scope (a registry) letting a puller pull:
    AcrPull, or Container Registry Repository Reader with a condition on one repository; the
    pull row of the policy table that allows it."""

    principal_id: str
    role_definition_id: str
    repository: str
    policy: str
    condition: str | None = None

    @property
    def credential_set(self) -> str | None:
        return None  # a puller's grant concerns no credential set

    def to_dict(self) -> dict[str, Any]:
        return {
            "principalId": self.principal_id,
            "roleDefinitionId": self.role_definition_id,
            "repository": self.repository,
            "policy": self.policy,
            "condition": self.condition,
        }


@dataclass(frozen=True, slots=True)
class CredentialSetCreation:
    """`create-credential-set`: a declared credential set to create (system-assigned identity),
    and the secret scopes whose read its new identity is given right after (fix mode)."""

    login_server: str
    username: SecretRef
    password: SecretRef
    grants: tuple[str, ...] = ()
    role_definition_id: str = ""

    @property
    def credential_set(self) -> str | None:
        return None  # the action's resource is the credential set itself

    def to_dict(self) -> dict[str, Any]:
        return {
            "loginServer": self.login_server,
            "username": str(self.username),
            "password": str(self.password),
            "grants": [
                {"scope": scope, "roleDefinitionId": self.role_definition_id}
                for scope in self.grants
            ],
        }


@dataclass(frozen=True, slots=True)
class CredentialSetDeletion:
    """`delete-credential-set`: a credential set declared absent that no cache rule uses."""

    login_server: str
    username: SecretRef
    password: SecretRef

    @property
    def credential_set(self) -> str | None:
        return None  # the action's resource is the credential set itself

    def to_dict(self) -> dict[str, Any]:
        return {
            "loginServer": self.login_server,
            "username": str(self.username),
            "password": str(self.password),
        }


@dataclass(frozen=True, slots=True)
class RuleCredentialSetMove:
    """`move-cache-rule`: point a cache rule at another credential set (`to`), or at none, as
    the policy row that governs it says; `before` is what the rule used when observed."""

    before: str | None
    to: str | None
    policy: str

    @property
    def credential_set(self) -> str | None:
        return self.to or self.before

    def to_dict(self) -> dict[str, Any]:
        return {"credentialSet": {"from": self.before, "to": self.to}, "policy": self.policy}


ActionPayload = (
    CredentialSetSecrets
    | SecretReadGrant
    | CacheRuleCreation
    | PullGrant
    | CredentialSetCreation
    | CredentialSetDeletion
    | RuleCredentialSetMove
)
