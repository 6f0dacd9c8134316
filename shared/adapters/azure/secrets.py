"""Secrets port over azure-keyvault-secrets: version metadata only, never a value.

Versions are listed (`GET {vault}/secrets/{name}/versions`, what the SDK's
`list_properties_of_secret_versions` sends) as raw JSON through the SecretClient's own pipeline
(authentication challenge, retries): ids and attributes only. An audit lists a hundred secrets,
and the SDK's models cost more than the request. `get_secret` (which returns the value) is
deliberately never called anywhere in the product.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from shared.adapters.azure.arm_lists import list_json
from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.models import SecretVersion
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError, NotFoundError

__all__ = ["KeyVaultSecrets"]

log = logging.getLogger(__name__)


class KeyVaultSecrets:
    """Implements the Secrets port."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    def list_versions(self, secret: SecretRef) -> list[SecretVersion]:
        client = self._clients.secrets(secret.vault_url)
        versionless = secret.versionless()
        with translate_errors(f"listing versions of {versionless}"):
            items = list_json(
                client._client,  # the generated client under SecretClient; list_json uses its pipeline
                f"/secrets/{quote(secret.name, safe='')}/versions",
                api_version=client.api_version,
                endpoint=secret.vault_url.rstrip("/"),
            )
        versions = [v for v in (_version(versionless, i) for i in items) if v is not None]
        if not versions:
            raise NotFoundError(f"secret {versionless} does not exist or has no versions")
        return versions


def _version(secret: SecretRef, item: Mapping[str, Any]) -> SecretVersion | None:
    """One item of a versions list (`SecretItem`: id and attributes, never a value); None
    (logged) when its id is not a version of `secret` we could point at, or its times do not
    read."""
    try:
        path = [p for p in urlsplit(str(item["id"])).path.split("/") if p]
        if len(path) != 3 or path[0] != "secrets":
            return None
        attributes = item.get("attributes") or {}
        return SecretVersion(
            ref=secret.with_version(path[2]),
            enabled=bool(attributes.get("enabled")),
            created=_unix_time(attributes.get("created")),
            updated=_unix_time(attributes.get("updated")),
            not_before=_unix_time(attributes.get("nbf")),
            expires=_unix_time(attributes.get("exp")),
        )
    except (InvalidInputError, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        log.warning("skipping a version of %s: %s", secret, exc)
        return None


def _unix_time(value: Any) -> datetime | None:
    """Key Vault's attribute times: seconds since the epoch, UTC (as the SDK's models read them)."""
    if value is None:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)
