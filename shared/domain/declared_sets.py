"""Declared credential sets: which credential sets each registry should have, and with what.

A declaration names a credential set (the ACR name rules), the upstream login server it
authenticates to (the upstream auth table must allow credentials for it), the username and
password secret URIs (versioned or versionless, in allow-listed vaults only) and the registries
it is for (`*`: every managed registry). `absent: true` declares that the set must not exist:
cachekeeper deletes it once no cache rule uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.names import validate_rule_name
from shared.domain.secrets import SecretRef
from shared.domain.upstreams import UpstreamAuth, auth_mode
from shared.errors import InvalidInputError

__all__ = ["DeclaredCredentialSet"]

_REGISTRY = re.compile(r"(\*|[a-zA-Z0-9]{5,50})", re.ASCII)
_LOGIN_SERVER = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", re.ASCII
)
_FIELDS = {"name", "loginServer", "username", "password", "registries", "absent"}
_MAX_REGISTRIES = 100


@dataclass(frozen=True, slots=True)
class DeclaredCredentialSet:
    """One row of the declared credential sets."""

    name: str
    login_server: str
    username: SecretRef
    password: SecretRef
    registries: tuple[str, ...] = ("*",)
    absent: bool = False

    @classmethod
    def from_dict(cls, data: Any, *, vaults: Iterable[str] | None = None) -> DeclaredCredentialSet:
        """Read and validate a declaration; `vaults` (names) are the allow-listed vaults its
        secrets must live in. InvalidInputError names the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("a credential set declaration must be a JSON object")
        unknown = sorted(str(k) for k in data if k not in _FIELDS)
        if unknown:
            raise InvalidInputError(f"unknown credential set field(s): {', '.join(unknown)}")
        name = data.get("name")
        validate_rule_name(name if isinstance(name, str) else "", kind="credential set")
        absent = data.get("absent", False)
        if not isinstance(absent, bool):
            raise InvalidInputError(f'credential set {name!r}: "absent" must be true or false')
        declared = cls(
            name=str(name).lower(),
            login_server=_text(data, "loginServer", name).lower().removeprefix("https://"),
            username=_secret(data, "username", name),
            password=_secret(data, "password", name),
            registries=_registries(data.get("registries", ["*"]), name),
            absent=absent,
        )
        declared.validate(vaults=vaults)
        return declared

    def validate(self, *, vaults: Iterable[str] | None = None) -> None:
        """Raise InvalidInputError when the declaration cannot be a working credential set."""
        where = f"credential set {self.name!r}"
        validate_rule_name(self.name, kind="credential set")
        if not _LOGIN_SERVER.fullmatch(self.login_server) or len(self.login_server) > 253:
            raise InvalidInputError(
                f"{where}: loginServer {self.login_server!r} is not a host name"
            )
        mode = auth_mode(self.login_server)
        if mode in {UpstreamAuth.ANONYMOUS_ONLY, UpstreamAuth.IDENTITY}:
            raise InvalidInputError(
                f"{where}: {self.login_server} does not take a credential set ({mode.value})"
            )
        if vaults is not None:
            allowed = {v.lower() for v in vaults}
            for role, ref in (("username", self.username), ("password", self.password)):
                if ref.vault_name not in allowed:
                    raise InvalidInputError(
                        f"{where}: {role} secret is in vault {ref.vault_name!r}, "
                        "which is not allow-listed (VAULT_ALLOWLIST)"
                    )
        if not self.registries:
            raise InvalidInputError(f"{where}: registries must name at least one registry or '*'")

    def applies_to(self, registry_name: str) -> bool:
        """True when the declaration is for this registry (by name, or `*`)."""
        wanted = registry_name.lower()
        return any(r == "*" or r.lower() == wanted for r in self.registries)

    def to_dict(self) -> dict[str, Any]:
        """The declaration's JSON form (what from_dict reads)."""
        return {
            "name": self.name,
            "loginServer": self.login_server,
            "username": str(self.username),
            "password": str(self.password),
            "registries": list(self.registries),
            "absent": self.absent,
        }


def _text(data: Mapping[str, Any], key: str, name: object) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f'credential set {name!r}: "{key}" is required (a string)')
    return value.strip()


def _secret(data: Mapping[str, Any], key: str, name: object) -> SecretRef:
    try:
        return SecretRef.parse(_text(data, key, name))
    except InvalidInputError as error:
        raise InvalidInputError(f'credential set {name!r}: "{key}": {error}') from None


def _registries(value: Any, name: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > _MAX_REGISTRIES:
        raise InvalidInputError(
            f'credential set {name!r}: "registries" must be a list of 1-{_MAX_REGISTRIES} names'
        )
    for item in value:
        if not isinstance(item, str) or not _REGISTRY.fullmatch(item):
            raise InvalidInputError(
                f"credential set {name!r}: {item!r} is not '*' or a registry name"
            )
    return tuple(sorted({item.lower() for item in value}))
