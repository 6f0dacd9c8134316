"""Credential sets changed out of band, as an operator would through ARM: `az acr cache update
--remove-cred-set`, `az acr credential-set delete`, `az acr credential-set create` with the same
properties, `az acr cache update -c` back. The net effect is one control: the set keeps its name,
login server and secret identifiers, its rules keep pointing at it, and its system-assigned
identity is a new principal with no role assignments (ARM keeps the old principal's)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from sandbox.clock import Clock
from sandbox.health import evaluate_health
from sandbox.state import CredentialSet, State, new_guid

__all__ = ["SET_ROUTES", "SetControls"]


class SetControls:
    """Mixin for the Sandbox: credential sets re-created out of band, under the sandbox lock."""

    state: State
    clock: Clock
    _lock: threading.RLock
    credential_set: Callable[[str, str], CredentialSet]

    def recreate_credential_set(self, registry: str, name: str) -> str:
        """Delete and re-create the credential set with the same properties; its new principal
        id (a queued one, `queue_principal_ids`, else a fresh GUID). KeyError when absent."""
        with self._lock:
            cred = self.credential_set(registry, name)
            queued = self.state.pending_principal_ids
            cred.identity_type, cred.tenant_id = "SystemAssigned", self.state.tenant_id
            cred.principal_id = queued.pop(0) if queued else new_guid()
            now = self.clock.now()
            cred.created, cred.provisioning_state = now, "Succeeded"
            evaluate_health(self.state, cred, now)
            return cred.principal_id


def _recreate(sb: Any, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    try:
        principal = sb.recreate_credential_set(p["registry"], p["name"])
    except KeyError as err:
        return 404, {"error": str(err)}
    return 200, {"name": p["name"], "principalId": principal}


SET_ROUTES = [
    ("POST", re.compile(r"^/registries/(?P<registry>[^/]+)/credentialSets/(?P<name>[^/]+)/recreate$"),
     _recreate),
]  # fmt: skip
