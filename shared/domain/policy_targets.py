"""Reverse mapping: which upstream the policy table would cache at a given path (a push into a
reserved namespace, a request by target path, a 404 pull failure, a squatted target).

A template can fit a path that the policy never produces: `docker.io/* -> hub/{path}` fits
`hub/nginx` as `docker.io/nginx`, but Docker Hub's official images live under `library/`, so the
policy puts that upstream at `hub/library/nginx`; a more specific row or a deny row can decide the
upstream differently too. A mapping is therefore accepted only when it round-trips: deciding the
candidate upstream gives back the same target, or a wildcard rule covering it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.domain.policies import Policy, PolicyAction, PolicyIndex, decide
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidInputError

__all__ = ["TargetMap", "upstream_for_target"]


class TargetMap:
    """A policy table prepared for many reverse mappings (the audit maps every repository of a
    registry): the allow rows in decision order and the index `decide` uses."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        rows = list(policies)
        self._index = PolicyIndex(rows)
        allowing = [
            p for p in rows if p.action is PolicyAction.ALLOW and p.target_template and p.enabled
        ]
        self._candidates = [
            (p, _template_pattern(p.target_template or ""))
            for p in sorted(allowing, key=Policy.rank)
        ]

    def upstream_for(self, target: TargetPath, *, registry: str) -> Upstream | None:
        """The upstream the policy would cache at `target` in `registry`, or None.

        `dockerhub/library/nginx` with the row `docker.io/library/*` -> `dockerhub/library/{path}`
        gives `docker.io/library/nginx`. Candidates come from the rows in decision order; the
        first one whose decision puts a rule at `target` (or a wildcard over it) wins."""
        text = str(target)
        for policy, pattern in self._candidates:
            if policy.registry != "*" and policy.registry.lower() != registry.lower():
                continue
            upstream = _reverse(policy, pattern, text)
            if upstream is not None and self.round_trips(upstream, target, registry=registry):
                return upstream
        return None

    def round_trips(self, upstream: Upstream, target: TargetPath, *, registry: str) -> bool:
        """True when deciding `upstream` gives a rule at `target` or a wildcard rule over it."""
        rule = decide(upstream, self._index, registry=registry).rule
        return rule is not None and rule.target.covers(target)  # a static target: equal


def upstream_for_target(
    target: TargetPath, policies: Iterable[Policy], *, registry: str
) -> Upstream | None:
    """Map a target path back to the upstream the policy would cache there (`TargetMap`)."""
    return TargetMap(policies).upstream_for(target, registry=registry)


def _template_pattern(template: str) -> re.Pattern[str]:
    """The template as a regular expression with one group per placeholder."""
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
    return re.compile(pattern, re.ASCII)


def _reverse(policy: Policy, pattern: re.Pattern[str], target: str) -> Upstream | None:
    """The upstream `policy`'s template would have rendered as `target`, if it fits."""
    match = pattern.fullmatch(target)
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
