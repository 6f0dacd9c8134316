"""Envelopes (Event Grid schema, CloudEvents 1.0) and the domain signals inside them.

Parsing is defensive: Key Vault sends PascalCase `data` keys (`Id`, `VaultName`, `NBF`) while its
schema says camelCase; `NBF`/`EXP` arrive as numbers, numeric strings or null; documentation
samples carry stray whitespace in keys and values. Anything unusable raises InvalidEventError,
which the triggers record and acknowledge (retrying a malformed event cannot help).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.plans import fingerprint
from shared.domain.secrets import SecretRef
from shared.errors import InvalidEventError, InvalidInputError

__all__ = [
    "Envelope",
    "KeyVaultEventKind",
    "KeyVaultSignal",
    "parse_keyvault_signal",
    "parse_time",
]

_MAX_TEXT = 2048


class KeyVaultEventKind(StrEnum):
    SECRET_NEW_VERSION = "Microsoft.KeyVault.SecretNewVersionCreated"
    SECRET_NEAR_EXPIRY = "Microsoft.KeyVault.SecretNearExpiry"
    SECRET_EXPIRED = "Microsoft.KeyVault.SecretExpired"
    ACCESS_POLICY_CHANGED = "Microsoft.KeyVault.VaultAccessPolicyChanged"


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of an event every schema has: id, source (topic), type, subject, time, data."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime | None
    data: Mapping[str, Any]

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> Envelope:
        """Read an Event Grid schema or CloudEvents 1.0 event given as JSON."""
        if not isinstance(event, Mapping):
            raise InvalidEventError("an event must be a JSON object")
        keys = {str(k).strip().lower(): v for k, v in event.items()}
        cloud = "specversion" in keys
        return cls.build(
            id=keys.get("id"),
            source=keys.get("source") if cloud else keys.get("topic"),
            type=keys.get("type") if cloud else keys.get("eventtype"),
            subject=keys.get("subject"),
            time=keys.get("time") if cloud else keys.get("eventtime"),
            data=keys.get("data"),
        )

    @classmethod
    def build(
        cls, *, id: Any, source: Any, type: Any, subject: Any, time: Any, data: Any
    ) -> Envelope:
        """Validate the parts (as the Functions worker hands them over) into an Envelope."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InvalidEventError("event data must be a JSON object")
        return cls(
            id=_text(id, "id", required=True),
            source=_text(source, "topic/source", required=False),
            type=_text(type, "event type", required=True),
            subject=_text(subject, "subject", required=False),
            time=parse_time(time),
            data=data,
        )

    @property
    def payload_hash(self) -> str:
        """Hash of what the event says (for idempotency: same id, same payload)."""
        return fingerprint(
            {
                "source": self.source.lower(),
                "type": self.type,
                "subject": self.subject,
                "data": self.data,
            }
        )


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
    vault_name = _text(data.get("vaultname"), "data.VaultName", required=False)
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
        not_before=_epoch(data.get("nbf"), "NBF"),
        expires=_epoch(data.get("exp"), "EXP"),
        time=envelope.time,
        payload_hash=envelope.payload_hash,
    )


def _secret(data: Mapping[str, Any]) -> SecretRef:
    identifier = _text(data.get("id"), "data.Id", required=True)
    object_type = _text(data.get("objecttype"), "data.ObjectType", required=False)
    if object_type and object_type.lower() != "secret":
        raise InvalidEventError(f"data.ObjectType is {object_type!r}, not Secret")
    try:
        ref = SecretRef.parse(identifier)
    except InvalidInputError as exc:
        raise InvalidEventError(f"data.Id is not a secret URI: {exc}") from exc
    version = _text(data.get("version"), "data.Version", required=False)
    if version and ref.version and version.lower() != ref.version:
        raise InvalidEventError("data.Version does not match the version in data.Id")
    if ref.version is None and version:
        try:
            ref = ref.with_version(version)
        except InvalidInputError as exc:
            raise InvalidEventError(f"data.Version is not a secret version: {exc}") from exc
    return ref


def _text(value: Any, name: str, *, required: bool) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidEventError(f"event has no {name}")
        return ""
    if not isinstance(value, str):
        raise InvalidEventError(f"event {name} must be a string")
    text = value.strip()
    if len(text) > _MAX_TEXT:
        raise InvalidEventError(f"event {name} is longer than {_MAX_TEXT} characters")
    return text


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as Event Grid writes it (7 fractional digits, Z), timezone-aware."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise InvalidEventError("event time must be an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Event Grid sends 7 fractional digits; Python reads at most 6.
    head, dot, tail = text.partition(".")
    if dot:
        digits = "".join(c for c in tail if c.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{rest}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEventError(f"event time {value!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _epoch(value: Any, name: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidEventError(f"data.{name} must be seconds since 1970")
    try:
        seconds = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InvalidEventError(f"data.{name} must be seconds since 1970") from None
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:  # before year 10000
        raise InvalidEventError(f"data.{name} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)
