"""In-memory Key Vault secret metadata. Values are never stored: the port cannot return them."""

from __future__ import annotations

import secrets as _random
from dataclasses import replace
from datetime import datetime

from shared.domain.models import SecretVersion
from shared.domain.secrets import SecretRef
from shared.errors import NotFoundError

__all__ = ["MemorySecrets"]


class MemorySecrets:
    """Implements the Secrets port; tests add versions and change their attributes."""

    def __init__(self) -> None:
        self._versions: dict[SecretRef, list[SecretVersion]] = {}
        self.calls = 0

    def add_version(
        self,
        secret: SecretRef,
        *,
        created: datetime,
        enabled: bool = True,
        not_before: datetime | None = None,
        expires: datetime | None = None,
        version: str | None = None,
    ) -> SecretVersion:
        """Add a version (a random 32-hex id unless given) and return its metadata."""
        ref = secret.versionless().with_version(version or _random.token_hex(16))
        item = SecretVersion(ref, enabled, created, created, not_before, expires)
        self._versions.setdefault(secret.versionless(), []).append(item)
        return item

    def update_version(self, ref: SecretRef, **changes: object) -> SecretVersion:
        """Change attributes (enabled, not_before, expires) of one version."""
        versions = self._versions.get(ref.versionless(), [])
        for index, item in enumerate(versions):
            if item.ref == ref:
                versions[index] = replace(item, **changes)  # type: ignore[arg-type]
                return versions[index]
        raise NotFoundError(f"secret version {ref} does not exist")

    def list_versions(self, secret: SecretRef) -> list[SecretVersion]:
        self.calls += 1
        try:
            return list(self._versions[secret.versionless()])
        except KeyError:
            raise NotFoundError(f"secret {secret.versionless()} does not exist") from None
