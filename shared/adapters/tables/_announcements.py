"""Announced secret versions in the journal table: partition `announced`, one row per secret
version a SecretNewVersionCreated event named, keyed by the SHA-256 of the secret's versionless
URI and the version, so a secret's announcements are one range query."""

from __future__ import annotations

import hashlib
from datetime import datetime

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.domain.secrets import SecretRef

__all__ = ["load_announcements", "save_announcement"]

_ANNOUNCED = "announced"


def save_announcement(table: LazyTable, secret: SecretRef, at: datetime) -> None:
    """Remember that an event named `secret.version` at `at` (an upsert: a redelivery
    writes the same row again)."""
    from azure.data.tables import UpdateMode

    if secret.version is None:
        return
    entity = {
        "PartitionKey": _ANNOUNCED,
        "RowKey": f"{_secret_key(secret)}-{secret.version}",
        "secret": str(secret.versionless())[:1_000],
        "version": secret.version,
        "at": as_utc(at),
        "atText": at.isoformat(),  # microseconds and zone kept as given
    }
    with sdk_errors(f"record the announcement of {secret}"):
        table.client().upsert_entity(entity, mode=UpdateMode.REPLACE)


def load_announcements(table: LazyTable, secret: SecretRef) -> dict[str, datetime]:
    """Version id -> when an event announced it, for one secret."""
    prefix = _secret_key(secret)
    query = "PartitionKey eq @partition and RowKey gt @first and RowKey lt @after"
    parameters = {"partition": _ANNOUNCED, "first": f"{prefix}-", "after": f"{prefix}."}
    found: dict[str, datetime] = {}
    with sdk_errors(f"read the announcements of {secret.versionless()}"):
        for entity in table.client().query_entities(query, parameters=parameters):
            try:
                found[str(entity["version"])] = datetime.fromisoformat(str(entity["atText"]))
            except (KeyError, ValueError):
                continue
    return found


def _secret_key(secret: SecretRef) -> str:
    return hashlib.sha256(str(secret.versionless()).encode()).hexdigest()
