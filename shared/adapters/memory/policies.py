"""The in-memory PolicyStore: policy rows and pull rows, with ETags like the table store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from shared.adapters.memory.declared_sets import MemoryDeclaredSets
from shared.domain.policies import Policy
from shared.domain.pull_policies import PullPolicy
from shared.errors import ConcurrencyError, NotFoundError
from shared.ports import StoredPolicy

__all__ = ["MemoryPolicyStore"]


class MemoryPolicyStore(MemoryDeclaredSets):
    """Implements the PolicyStore port (declared credential sets: `MemoryDeclaredSets`)."""

    def __init__(self, policies: Sequence[Policy] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._rows: dict[str, StoredPolicy] = {}
        self._pull_rows: dict[str, PullPolicy] = {}
        for policy in policies:
            self.put_policy(policy)

    def list_policies(self) -> list[StoredPolicy]:
        return [self._rows[k] for k in sorted(self._rows)]

    def get_policy(self, policy_id: str) -> StoredPolicy:
        try:
            return self._rows[policy_id]
        except KeyError:
            raise NotFoundError(f"policy {policy_id!r} does not exist") from None

    def put_policy(self, policy: Policy, *, if_match: str | None = None) -> StoredPolicy:
        with self._lock:
            current = self._rows.get(policy.id)
            if if_match is not None and (current is None or current.etag != if_match):
                raise ConcurrencyError(f"policy {policy.id!r} changed since it was read")
            stored = StoredPolicy(policy, uuid.uuid4().hex)
            self._rows[policy.id] = stored
            return stored

    def delete_policy(self, policy_id: str, *, if_match: str | None = None) -> None:
        with self._lock:
            current = self.get_policy(policy_id)
            if if_match is not None and current.etag != if_match:
                raise ConcurrencyError(f"policy {policy_id!r} changed since it was read")
            del self._rows[policy_id]

    def replace_all(self, policies: Sequence[Policy]) -> None:
        with self._lock:
            self._rows = {p.id: StoredPolicy(p, uuid.uuid4().hex) for p in policies}

    def list_pull_policies(self) -> list[PullPolicy]:
        return [self._pull_rows[k] for k in sorted(self._pull_rows)]

    def put_pull_policy(self, policy: PullPolicy) -> None:
        with self._lock:
            self._pull_rows[policy.id] = policy

    def delete_pull_policy(self, policy_id: str) -> None:
        with self._lock:
            if self._pull_rows.pop(policy_id, None) is None:
                raise NotFoundError(f"pull policy {policy_id!r} does not exist")
