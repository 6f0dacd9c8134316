"""Key Vault secret identifiers (`https://<vault>.vault.azure.net/secrets/<name>[/<version>]`).

Credential sets point at secrets by URI, with or without a version. Anything that is not exactly
a Key Vault secret URI (public cloud or a sovereign-cloud vault suffix) is refused, so a typo or a
hostile value can never make the app talk to another host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import InvalidSecretUriError

__all__ = ["VAULT_DNS_SUFFIXES", "SecretRef"]

VAULT_DNS_SUFFIXES = (
    "vault.azure.net",  # public cloud
    "vault.azure.cn",  # Azure operated by 21Vianet
    "vault.usgovcloudapi.net",  # Azure Government
    "vault.microsoftazure.de",  # Azure Germany (legacy)
)

_URI = re.compile(
    r"https://(?P<vault>[^./:@?#\s]+)\.(?P<suffix>[a-z0-9.]+?)(?::443)?"
    r"/secrets/(?P<name>[^/?#\s]+)(?:/(?P<version>[^/?#\s]*))?/?",
    re.IGNORECASE | re.ASCII,  # ASCII: a long s (U+017F) does not fold to the s of https
)
_VAULT_NAME = re.compile(r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", re.ASCII)
_SECRET_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}", re.ASCII)
_VERSION = re.compile(r"[0-9a-fA-F]{32}", re.ASCII)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A reference to a Key Vault secret, optionally pinned to one version.

    Vault and secret names are case-insensitive in Key Vault, so they are stored lower-case;
    `str()` gives the canonical URI.
    """

    vault_name: str
    dns_suffix: str
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """Parse a secret URI; raise InvalidSecretUriError with the reason when it is not one."""
        if not isinstance(text, str):
            raise InvalidSecretUriError("a secret URI must be a string")
        value = text.strip()
        match = _URI.fullmatch(value)
        if match is None:
            raise InvalidSecretUriError(
                f"{_show(text)} is not a Key Vault secret URI "
                "(expected https://<vault>.vault.azure.net/secrets/<name>[/<version>])"
            )
        suffix = match["suffix"].lower()
        if suffix not in VAULT_DNS_SUFFIXES:
            raise InvalidSecretUriError(f"{_show(text)}: {suffix!r} is not a Key Vault DNS suffix")
        vault, name, version = match["vault"], match["name"], match["version"] or None
        if not _VAULT_NAME.fullmatch(vault):
            raise InvalidSecretUriError(
                f"{_show(text)}: vault name must be 3-24 letters, digits and single hyphens"
            )
        if not _SECRET_NAME.fullmatch(name):
            raise InvalidSecretUriError(
                f"{_show(text)}: secret name must be 1-127 letters, digits, hyphens"
            )
        if version is not None and not _VERSION.fullmatch(version):
            raise InvalidSecretUriError(f"{_show(text)}: version must be 32 hexadecimal characters")
        return cls(vault.lower(), suffix, name.lower(), version.lower() if version else None)

    @property
    def vault_url(self) -> str:
        """The vault's base URL, as SecretClient wants it."""
        return f"https://{self.vault_name}.{self.dns_suffix}"

    @property
    def is_versioned(self) -> bool:
        """True when the reference pins a version."""
        return self.version is not None

    def versionless(self) -> SecretRef:
        """The same secret without a pinned version."""
        if self.version is None:
            return self  # frozen, so sharing is safe; planners call this in tight loops
        return SecretRef(self.vault_name, self.dns_suffix, self.name)

    def with_version(self, version: str) -> SecretRef:
        """The same secret pinned to `version`."""
        if not _VERSION.fullmatch(version):
            raise InvalidSecretUriError(f"{version!r} is not a Key Vault secret version")
        return SecretRef(self.vault_name, self.dns_suffix, self.name, version.lower())

    def same_secret(self, other: SecretRef) -> bool:
        """True when both refer to the same secret, whatever the versions."""
        return (
            self.name == other.name
            and self.vault_name == other.vault_name
            and self.dns_suffix == other.dns_suffix
        )

    def __str__(self) -> str:
        base = f"{self.vault_url}/secrets/{self.name}"
        return f"{base}/{self.version}" if self.version else base


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
