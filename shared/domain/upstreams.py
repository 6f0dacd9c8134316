"""Which upstream registries artifact cache supports, and whether each needs a credential set.

One table, host -> authentication mode, from the artifact-cache overview's "Upstream support"
table (Microsoft Learn, "Optimize image pulls with artifact cache in Azure Container Registry";
docs/fidelity.md names the revision each row was read in). A host the table does not know is not
refused: ACR may support it, and ACR has the last word; the policy service notes it instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["UpstreamAuth", "auth_mode", "credential_problem", "login_server_mismatch"]


class UpstreamAuth(StrEnum):
    CREDENTIALS_REQUIRED = "credentials-required"  # authenticated pulls only
    ANONYMOUS_ONLY = "anonymous-only"  # unauthenticated pulls only
    EITHER = "either"  # both authenticated and unauthenticated pulls
    IDENTITY = "identity"  # another ACR: a managed identity on the rule, not a credential set
    UNKNOWN = "unknown"  # not in the table


@dataclass(frozen=True, slots=True)
class _Row:
    host: str  # exact host, or `*.suffix` for every host under the suffix
    auth: UpstreamAuth
    name: str


_TABLE: tuple[_Row, ...] = (
    _Row("docker.io", UpstreamAuth.CREDENTIALS_REQUIRED, "Docker Hub"),
    _Row("registry-1.docker.io", UpstreamAuth.CREDENTIALS_REQUIRED, "Docker Hub"),
    _Row("dhi.io", UpstreamAuth.CREDENTIALS_REQUIRED, "Docker Hardened Images"),
    _Row("*.pkg.dev", UpstreamAuth.CREDENTIALS_REQUIRED, "Google Artifact Registry"),
    _Row("registry.redhat.io", UpstreamAuth.CREDENTIALS_REQUIRED, "Red Hat registry"),
    _Row("*.azurecr.io", UpstreamAuth.IDENTITY, "Azure Container Registry"),
    _Row("mcr.microsoft.com", UpstreamAuth.ANONYMOUS_ONLY, "Microsoft Artifact Registry"),
    _Row("public.ecr.aws", UpstreamAuth.ANONYMOUS_ONLY, "AWS ECR Public Gallery"),
    _Row("registry.access.redhat.com", UpstreamAuth.ANONYMOUS_ONLY, "Red Hat public registry"),
    _Row("ghcr.io", UpstreamAuth.EITHER, "GitHub Container Registry"),
    _Row("quay.io", UpstreamAuth.EITHER, "Quay"),
    _Row("registry.k8s.io", UpstreamAuth.EITHER, "Kubernetes registry"),
    _Row("gcr.io", UpstreamAuth.EITHER, "Google Container Registry"),
    _Row("nvcr.io", UpstreamAuth.EITHER, "NVIDIA NGC"),
)


def _row(host: str) -> _Row | None:
    host = host.lower()
    for row in _TABLE:
        if row.host == host or (row.host.startswith("*.") and host.endswith(row.host[1:])):
            return row
    return None


def auth_mode(host: str) -> UpstreamAuth:
    """How artifact cache authenticates to `host` (UNKNOWN when the table does not say)."""
    row = _row(host)
    return row.auth if row is not None else UpstreamAuth.UNKNOWN


def credential_problem(host: str, *, has_credential_set: bool) -> str | None:
    """Why a rule for `host` with (or without) a credential set cannot work; None when it can
    (or when the host is unknown: ACR decides)."""
    row = _row(host)
    if row is None:
        return None
    if row.auth is UpstreamAuth.CREDENTIALS_REQUIRED and not has_credential_set:
        return (
            f"{row.name} ({host}) only allows authenticated pulls: the rule needs a credential set"
        )
    if row.auth is UpstreamAuth.ANONYMOUS_ONLY and has_credential_set:
        return (
            f"{row.name} ({host}) only allows unauthenticated pulls: "
            "the rule must not have a credential set"
        )
    if row.auth is UpstreamAuth.IDENTITY and has_credential_set:
        return (
            f"{row.name} ({host}) upstreams authenticate with a managed identity on the rule, "
            "not a credential set"
        )
    return None


def login_server_mismatch(login_server: str, upstream_host: str) -> bool:
    """True when a credential set made for `login_server` is used for `upstream_host`: ACR sends
    its username and password to the rule's upstream, so they are another registry's secrets.
    Docker Hub's aliases count as one host."""
    return _canonical(login_server) != _canonical(upstream_host)


def _canonical(host: str) -> str:
    host = host.strip().lower().removeprefix("https://").rstrip("/")
    return "docker.io" if host in {"index.docker.io", "registry-1.docker.io"} else host
