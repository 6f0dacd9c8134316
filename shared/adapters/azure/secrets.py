"""Secrets port over azure-keyvault-secrets: version metadata only, never a value.

`list_properties_of_secret_versions` returns ids and attributes; `get_secret` (which returns the
value) is deliberately never called anywhere in the product.
"""

from __future__ import annotations

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.models import SecretVersion
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError, NotFoundError

__all__ = ["KeyVaultSecrets"]


class KeyVaultSecrets:
    """Implements the Secrets port."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    def list_versions(self, secret: SecretRef) -> list[SecretVersion]:
        client = self._clients.secrets(secret.vault_url)
        versionless = secret.versionless()
        versions: list[SecretVersion] = []
        with translate_errors(f"listing versions of {versionless}"):
            for item in client.list_properties_of_secret_versions(secret.name):
                if item.id is None or item.version is None:
                    continue
                try:
                    ref = versionless.with_version(item.version)
                except InvalidInputError:
                    continue  # not a version id Key Vault would issue; nothing we could point at
                versions.append(
                    SecretVersion(
                        ref=ref,
                        enabled=bool(item.enabled),
                        created=item.created_on,
                        updated=item.updated_on,
                        not_before=item.not_before,
                        expires=item.expires_on,
                    )
                )
        if not versions:
            raise NotFoundError(f"secret {versionless} does not exist or has no versions")
        return versions
