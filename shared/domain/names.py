"""Names ARM accepts for registries, cache rules and credential sets."""

from __future__ import annotations

import re

from shared.errors import InvalidNameError

__all__ = ["validate_registry_name", "validate_rule_name"]

_RULE_NAME = re.compile(r"[a-zA-Z0-9-]{5,50}", re.ASCII)
_REGISTRY_NAME = re.compile(r"[a-zA-Z0-9]{5,50}", re.ASCII)


def validate_rule_name(name: str, *, kind: str = "cache rule") -> str:
    """Check a cache rule or credential set name: 5-50 letters, digits and hyphens."""
    if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
        raise InvalidNameError(
            f"{kind} name {name!r} is invalid: use 5 to 50 letters, digits and hyphens"
        )
    return name


def validate_registry_name(name: str) -> str:
    """Check a registry name: 5-50 letters and digits."""
    if not isinstance(name, str) or not _REGISTRY_NAME.fullmatch(name):
        raise InvalidNameError(f"registry name {name!r} is invalid: use 5 to 50 letters and digits")
    return name
