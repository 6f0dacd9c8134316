"""The Event Grid events Key Vault would emit, in both schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sandbox.env import unix
from sandbox.state import Secret, SecretVersion, Vault

SECRET_NEW_VERSION_CREATED = "Microsoft.KeyVault.SecretNewVersionCreated"


def event_time(when: datetime) -> str:
    """Event Grid's timestamp format: 7 fractional digits and `Z`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def secret_event(
    vault: Vault,
    secret: Secret,
    version: SecretVersion,
    now: datetime,
    event_type: str = SECRET_NEW_VERSION_CREATED,
) -> dict[str, dict[str, Any]]:
    """`{"eventGrid": {...}, "cloudEvent": {...}}` for one secret version (PascalCase data)."""
    event_id = str(uuid.uuid4())
    data = {
        "Id": f"{vault.uri}secrets/{secret.name}/{version.version}",
        "VaultName": vault.name,
        "ObjectType": "Secret",
        "ObjectName": secret.name,
        "Version": version.version,
        "NBF": unix(version.not_before),
        "EXP": unix(version.expires),
    }
    time = event_time(now)
    return {
        "eventGrid": {
            "id": event_id,
            "topic": vault.id,
            "subject": secret.name,
            "eventType": event_type,
            "eventTime": time,
            "data": dict(data),
            "dataVersion": "1",
            "metadataVersion": "1",
        },
        "cloudEvent": {
            "source": vault.id,
            "subject": secret.name,
            "type": event_type,
            "time": time,
            "id": event_id,
            "data": dict(data),
            "specversion": "1.0",
        },
    }
