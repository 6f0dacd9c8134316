"""Reverse mapping: which upstream an allow row's target template would cache at a given path
(a push into a reserved namespace, a request by target path, a 404 pull failure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.domain.policies import Policy, PolicyAction
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidInputError

__all__ = ["upstream_for_target"]


def upstream_for_target(
    target: TargetPath, policies: Iterable[Policy], *, registry: str
) -> Upstream | None:
    """Map a requested target path back to the upstream an allow row's template would cache there.

    `dockerhub/library/nginx` with the row `docker.io/library/*` -> `dockerhub/library/{path}` gives
    `docker.io/library/nginx`. The first row (in decision order) whose template fits wins."""
    text = str(target)
    for policy in sorted(policies, key=Policy.rank):
        if (
            policy.action is not PolicyAction.ALLOW
            or not policy.target_template
            or not policy.enabled
        ):
            continue
        if policy.registry != "*" and policy.registry.lower() != registry.lower():
            continue
        upstream = _reverse(policy, text)
        if upstream is not None and policy.matches(upstream, registry):
            return upstream
    return None


def _reverse(policy: Policy, target: str) -> Upstream | None:
    template = policy.target_template or ""
    groups = {
        "path": r"(?P<path>[a-z0-9._/-]+)",
        "repository": r"(?P<repository>[a-z0-9._/-]+)",
        "name": r"(?P<name>[a-z0-9._-]+)",
    }
    pattern, seen = "", set()
    for literal, placeholder in re.findall(r"([^{]*)(?:\{([^{}]*)\})?", template, re.ASCII):
        pattern += re.escape(literal)
        if placeholder:
            pattern += groups[placeholder] if placeholder not in seen else f"(?P={placeholder})"
            seen.add(placeholder)
    match = re.fullmatch(pattern, target, re.ASCII)
    if match is None:
        return None
    found = match.groupdict()
    prefix = "/".join(policy.upstream.path[:-1])
    if "repository" in found:
        path = found["repository"]
    elif "path" in found and policy.upstream.is_wildcard:
        path = f"{prefix}/{found['path']}" if prefix else found["path"]
    else:
        path = policy.upstream.repository
    try:
        return Upstream.parse(f"{policy.upstream.host}/{path}")
    except InvalidInputError:
        return None
