"""Key Vault events (Event Grid system topic on each managed vault): rotation, expiry, access.

Parsing is defensive: Key Vault sends PascalCase `data` keys (`Id`, `VaultName`, `NBF`) while its
schema says camelCase; `NBF`/`EXP` arrive as numbers, numeric strings or null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.secrets import SecretRef
from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope, epoch, text_field

__all__ = ["KeyVaultEventKind", "KeyVaultSignal", "parse_keyvault_signal"]


class KeyVaultEventKind(StrEnum):
    SECRET_NEW_VERSION = "Microsoft.KeyVault.SecretNewVersionCreated"
    SECRET_NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry"
    SECRET_EXPIRED = "Microsoft.KeyVault.SecretExpired"
    ACCESS_POLICY_CHANGED = "Microsoft.KeyVault.VaultAccessPolicyChanged"


@dataclass(frozen=True, slots=True)
class KeyVaultSignal:
    """A Key Vault event as the product understands it."""

    event_id: str
    kind: KeyVaultEventKind
    topic: str
    vault: ResourceId | None
    vault_name: str
    secret: SecretRef | None
    not_before: datetime | None
    expires: datetime | None
    time: datetime | None
    payload_hash: str


def parse_keyvault_signal(envelope: Envelope) -> KeyVaultSignal:
    """The Key Vault signal in an envelope; InvalidEventError when it is not a usable one."""
    try:
        kind = KeyVaultEventKind(envelope.type)
    except ValueError:
        raise InvalidEventError(
            f"event type {envelope.type!r} is not a Key Vault event we handle"
        ) from None
    data = {str(k).strip().lower(): v for k, v in envelope.data.items()}
    vault_name = text_field(data.get("vaultname"), "data.VaultName", required=False)
    try:
        vault: ResourceId | None = ResourceId.parse(envelope.source)
    except InvalidInputError:
        vault = None  # recorded as out of scope by the service; the event itself is readable
    secret: SecretRef | None = None
    if kind is not KeyVaultEventKind.ACCESS_POLICY_CHANGED:
        secret = _secret(data)
        vault_name = vault_name or secret.vault_name
    if not vault_name and vault is not None:
        vault_name = vault.name
    return KeyVaultSignal(
        event_id=envelope.id,
        kind=kind,
        topic=envelope.source,
        vault=vault,
        vault_name=vault_name.lower(),
        secret=secret,
        not_before=epoch(data.get("nbf"), "NBF"),
        expires=epoch(data.get("exp"), "EXP"),
        time=envelope.time,
        payload_hash=envelope.payload_hash,
    )


def _secret(data: Mapping[str, Any]) -> SecretRef:
    identifier = text_field(data.get("id"), "data.Id", required=True)
    object_type = text_field(data.get("objecttype"), "data.ObjectType", required=False)
    if object_type and object_type.lower() != "secret":
        raise InvalidEventError(f"data.ObjectType is {object_type!r}, not Secret")
    try:
        ref = SecretRef.parse(identifier)
    except InvalidInputError as exc:
        raise InvalidEventError(f"data.Id is not a secret URI: {exc}") from exc
    version = text_field(data.get("version"), "data.Version", required=False)
    if version and ref.version and version.lower() != ref.version:
        raise InvalidEventError("data.Version does not match the version in data.Id")
    if ref.version is None and version:
        try:
            ref = ref.with_version(version)
        except InvalidInputError as exc:
            raise InvalidEventError(f"data.Version is not a secret version: {exc}") from exc
    return ref
