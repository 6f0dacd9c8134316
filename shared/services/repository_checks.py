"""Pre-checks of a repository request that read Azure: the prescribed credential set (one point
read) and, for a dry run, whether a static rule's target repository exists (ACR's data plane)."""

from __future__ import annotations

import logging

from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.errors import AccessDeniedError, NotFoundError
from shared.services.context import Context

__all__ = ["prescribed_set", "target_exists"]

log = logging.getLogger(__name__)


def prescribed_set(ctx: Context, registry: ResourceId, name: str) -> list[CredentialSet]:
    """The named credential set of the registry, or none when ARM answers 404."""
    try:
        return [ctx.registry.get_credential_set(registry.child("credentialSets", name))]
    except NotFoundError:
        return []


def target_exists(ctx: Context, registry: ResourceId, spec: RuleSpec) -> list[str]:
    """Why a static rule cannot be created over an existing repository, if it would be."""
    # ACR refuses a static rule whose target repository already exists; asking the data plane
    # first turns that into a reason before any write (wildcards are checked on the catalog).
    if spec.is_wildcard:
        return []
    try:
        exists = ctx.registry.repository_exists(registry, spec.target)
    except AccessDeniedError as error:
        # Without data-plane read the check cannot run; ACR still refuses, and that refusal
        # becomes the reason (see request_repository).
        log.warning("cannot check whether %s exists: %s", spec.target, error)
        return []
    if not exists:
        return []
    return [
        f"repository {spec.target} already exists in {registry.name} (ACR refuses a cache rule "
        "whose target repository exists); change the row's targetTemplate or move the repository"
    ]
