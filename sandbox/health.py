"""Credential-set health: computed from current state, and reported the way ACR reports it.

With `health_refresh_seconds` 0 every read computes it afresh. Otherwise ACR's own schedule is
modelled: health is evaluated when the credential set is written, then every N seconds of the
sandbox clock after that write; a read in between reports the last evaluation (an evaluation
made late is made as of its scheduled moment, against today's secrets). Access is judged with the
role assignments in effect at that moment (`rbac_delay_seconds`: see `effective_assignments`).
Error codes are sandbox-defined (Azure's catalogue is not published); see README.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.access import can_get_secret
from sandbox.state import CredentialSet, RoleAssignment, State

_SECRET_URI = re.compile(
    r"^https://(?P<vault>[a-z0-9-]{3,24})\.vault\.azure\.net(?::443)?"
    r"/secrets/(?P<name>[a-z0-9-]{1,127})(?:/(?P<version>[0-9a-f]{32}))?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SecretUri:
    """A parsed Key Vault secret identifier; `version` is None when versionless."""

    vault: str
    name: str
    version: str | None


@dataclass(frozen=True)
class Health:
    """A credential's health as ACR reports it."""

    status: str
    error_code: str | None = None
    error_message: str | None = None

    def as_json(self) -> dict[str, str]:
        """The `credentialHealth` JSON object."""
        out = {"status": self.status}
        if self.error_code:
            out["errorCode"] = self.error_code
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


HEALTHY = Health("Healthy")


def parse_secret_uri(uri: str) -> SecretUri | None:
    """Parse `https://{vault}.vault.azure.net/secrets/{name}[/{version}]`, else None."""
    match = _SECRET_URI.match(uri or "")
    if match is None:
        return None
    return SecretUri(match["vault"].lower(), match["name"], match["version"])


def effective_assignments(state: State, now: datetime) -> list[RoleAssignment]:
    """The role assignments access evaluation honours at `now`: those in effect (made at least
    `rbac_delay_seconds` ago, or seeded), and removed ones whose removal has not taken effect."""
    found = [
        a
        for a in state.role_assignments.values()
        if a.effective_at is None or a.effective_at <= now
    ]
    found.extend(a for a, until in state.revoked_assignments if until > now)
    return found


def assignments_by_principal(state: State, now: datetime) -> dict[str, list[RoleAssignment]]:
    """The assignments in effect at `now` grouped by principal id (lower case), in one pass over
    the state: a list request judges many identities and would otherwise scan every assignment
    for each."""
    grouped: dict[str, list[RoleAssignment]] = {}
    for assignment in effective_assignments(state, now):
        grouped.setdefault(assignment.principal_id.lower(), []).append(assignment)
    return grouped


def secret_health(  # noqa: PLR0911 - one return per documented check, in order
    state: State,
    cred: CredentialSet,
    field: str,
    uri: str,
    now: datetime,
    *,
    by_principal: Mapping[str, list[RoleAssignment]] | None = None,
) -> Health:
    """Check one secret reference: identifier, vault, access, existence, the version enabled.
    A versionless reference is judged by the latest version (what Key Vault returns for it);
    `nbf`/`exp` are not checked, as Key Vault serves expired and not-yet-valid versions (`now`
    is kept for callers that judge at a moment). `by_principal` (assignments_by_principal)
    spares the scan of every assignment."""

    def bad(code: str, message: str) -> Health:
        return Health("Unhealthy", code, f"{field} '{uri}': {message}")

    ref = parse_secret_uri(uri)
    if ref is None:
        return bad("InvalidSecretIdentifier", "not a Key Vault secret identifier")
    vault = state.vault(ref.vault)
    if vault is None:
        return bad("VaultNotFound", f"vault '{ref.vault}' does not exist")
    if not cred.principal_id:
        return bad("IdentityNotFound", "the credential set has no managed identity")
    assignments: Iterable[RoleAssignment] = (
        effective_assignments(state, now)
        if by_principal is None
        else by_principal.get(cred.principal_id.lower(), ())
    )
    decision = can_get_secret(
        cred.principal_id,
        vault,
        ref.name,
        assignments=assignments,
        roles=state.role_definitions,
        management_groups=state.management_groups,
    )
    if not decision.allowed:
        model = "RBAC" if vault.rbac else "access policies"
        return bad(
            "AccessDenied",
            f"identity {cred.principal_id} cannot getSecret ({model}: {decision.reason})",
        )
    secret = vault.secrets.get(ref.name.lower())
    if secret is None or secret.latest is None:
        return bad("SecretNotFound", f"secret '{ref.name}' does not exist")
    version = secret.find(ref.version) if ref.version else secret.latest
    if version is None:
        return bad("SecretVersionNotFound", f"version '{ref.version}' does not exist")
    if not version.enabled:
        which = "the latest version" if ref.version is None else "version"
        return bad("SecretDisabled", f"{which} {version.version} is disabled")
    return HEALTHY


def credential_health(
    state: State,
    cred: CredentialSet,
    auth_index: int,
    now: datetime,
    *,
    by_principal: Mapping[str, list[RoleAssignment]] | None = None,
) -> Health:
    """Health of one authCredentials entry: the first failing check wins (username first)."""
    entry = cred.credentials[auth_index]
    for field, uri in (
        ("usernameSecretIdentifier", entry.username_uri),
        ("passwordSecretIdentifier", entry.password_uri),
    ):
        health = secret_health(state, cred, field, uri, now, by_principal=by_principal)
        if health.status != "Healthy":
            return health
    return HEALTHY


def evaluate_health(
    state: State,
    cred: CredentialSet,
    when: datetime,
    *,
    by_principal: Mapping[str, list[RoleAssignment]] | None = None,
) -> list[Health]:
    """Evaluate every credential's health as of `when` and keep it as the reported health (a
    write evaluates at once). `by_principal` must be assignments_by_principal(state, when)."""
    grouped = by_principal if by_principal is not None else assignments_by_principal(state, when)
    cred.reported_health = [
        credential_health(state, cred, index, when, by_principal=grouped)
        for index in range(len(cred.credentials))
    ]
    cred.health_evaluated_at = when
    return list(cred.reported_health)


def reported_health(
    state: State,
    cred: CredentialSet,
    now: datetime,
    refresh_seconds: float,
    *,
    by_principal: Mapping[str, list[RoleAssignment]] | None = None,
) -> list[Health]:
    """The health a read reports at `now`: live with `refresh_seconds` 0, else the evaluation of
    the latest scheduled moment (the last one, while the next is not due). `by_principal`
    (assignments_by_principal at `now`, shared by a list page) spares a scan per set."""
    last = cred.health_evaluated_at
    if refresh_seconds <= 0 or last is None or len(cred.reported_health) != len(cred.credentials):
        health = evaluate_health(state, cred, now, by_principal=by_principal)
        if refresh_seconds <= 0:
            cred.health_evaluated_at = None  # live: nothing is kept between reads
        return health
    periods = (now - last).total_seconds() // refresh_seconds
    if periods >= 1:
        return evaluate_health(state, cred, last + timedelta(seconds=periods * refresh_seconds))
    return list(cred.reported_health)
