"""The findings of the rotation planner: versions not adopted, no valid version, versions whose
order is unknown, and versionless references whose latest version is disabled (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.domain.models import CredentialSet, SecretVersion
from shared.domain.plans import Finding, Severity
from shared.domain.versions import ObservedSecret, created_second, is_newer

__all__ = ["disabled_latest", "order_unknown", "secret_findings"]


def _unusable_newer(secret: ObservedSecret, now: datetime) -> list[SecretVersion]:
    best = secret.best.version
    return sorted(
        (
            v
            for v in secret.versions
            if not v.is_valid_at(now)
            and (best is None or is_newer(v, best, secret.announced) is True)
        ),
        key=lambda v: (created_second(v), v.version),
    )


def secret_findings(secret: ObservedSecret, now: datetime, *, read_latest: bool) -> list[Finding]:
    """Findings about one secret; `read_latest` when some credential set reads it without a
    version (then a latest version that may be disabled matters too)."""
    findings = [
        Finding(
            kind="secret-version-not-adopted",
            severity=Severity.WARNING,
            resource=str(v.ref),
            message=f"version {v.version} of {secret.ref} is {v.validity_problem(now)}; not adopted",
            fix="enable the version or correct its activation/expiry dates in Key Vault",
            evidence={"version": v.version, "problem": v.validity_problem(now)},
        )
        for v in _unusable_newer(secret, now)
    ]
    disabled_tie = read_latest and any(not v.enabled for v in secret.latest.tied)
    if secret.best.tied or disabled_tie:
        findings.append(order_unknown(secret, secret.best.tied or secret.latest.tied))
    elif secret.best.version is None:
        findings.append(
            Finding(
                kind="secret-has-no-valid-version",
                severity=Severity.ERROR,
                resource=str(secret.ref),
                message=f"{secret.ref} has no enabled, currently valid version",
                fix="add a new version of the secret in Key Vault",
            )
        )
    return findings


def order_unknown(secret: ObservedSecret, tied: Sequence[SecretVersion]) -> Finding:
    names = ", ".join(v.version for v in tied)
    return Finding(
        kind="secret-version-order-unknown",
        severity=Severity.WARNING,  # usually resolved by the next version's event
        resource=str(secret.ref),
        message=(
            f"versions {names} of {secret.ref} were created in the same second "
            f"({created_second(tied[0]).isoformat()}Z) and no rotation event recorded says which "
            "came last; credential sets are not moved until it does"
        ),
        fix="disable the version that must not be used, or add a new version, so the newest is unambiguous",
        evidence={"versions": [v.version for v in tied], "announced": sorted(secret.announced)},
    )


def disabled_latest(
    credential_set: CredentialSet, role: str, secret: ObservedSecret, pinning: bool
) -> Finding:
    disabled = secret.latest.version
    assert disabled is not None
    valid = secret.best.version
    instead = f"; version {valid.version} is enabled and valid" if valid else ""
    evidence: dict[str, Any] = {"secret": str(secret.ref), "role": role, "latest": disabled.version,
                                "newestValid": valid.version if valid else None, "pinning": pinning}  # fmt: skip
    return Finding(
        kind="versionless-latest-disabled",
        severity=Severity.CRITICAL,
        resource=str(credential_set.id),
        message=(
            f"{credential_set.name} reads {role} from {secret.ref} without a version, so Key Vault "
            f"serves its latest version {disabled.version}, which is disabled (403): the credential "
            f"set cannot authenticate{instead}"
        ),
        fix=(
            f"enable version {disabled.version} or add a new version of {secret.ref.name}"
            + (f", or pin {role} to {valid.ref}" if valid else "")
            + " (PIN_ON_DISABLED_LATEST=true with REMEDIATION_MODE=fix pins it)"
        ),
        evidence=evidence,
    )
