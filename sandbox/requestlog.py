"""The request log: every ARM and Key Vault request the sandbox answered."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})


@dataclass(frozen=True)
class RequestRecord:
    """One logged request. `body` is the request body with secret values redacted."""

    seq: int
    method: str
    host: str
    path: str
    query: dict[str, str]
    status: int
    plane: str  # "arm", "keyvault" or "acr" (registry data plane)
    write: bool
    body: str | None = None
    fault: str | None = None
    challenge: bool = False  # Key Vault's unauthenticated first request (401 + challenge)
    secret_value_served: bool = False
    operation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


class RequestLog:
    """Thread-safe append-only log with small query helpers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, **fields: Any) -> RequestRecord:
        """Append a record (the sequence number is assigned here)."""
        with self._lock:
            record = RequestRecord(seq=len(self._records) + 1, **fields)
            self._records.append(record)
            return record

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def all(self) -> list[RequestRecord]:
        """A snapshot of every record, oldest first."""
        with self._lock:
            return list(self._records)

    def matching(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        host: str | None = None,
        plane: str | None = None,
        writes_only: bool = False,
        include_challenges: bool = True,
    ) -> list[RequestRecord]:
        """Records whose path matches the regex `path` (searched, case-insensitive) and filters."""
        regex = re.compile(path, re.IGNORECASE) if path else None
        out = []
        for record in self.all():
            if regex and not regex.search(record.path):
                continue
            if method and record.method != method.upper():
                continue
            if host and record.host != host.lower():
                continue
            if plane and record.plane != plane:
                continue
            if writes_only and not record.write:
                continue
            if record.challenge and not include_challenges:
                continue
            out.append(record)
        return out

    def writes(self, path: str | None = None) -> list[RequestRecord]:
        """Write requests (PUT/PATCH/POST/DELETE), optionally filtered by path regex."""
        return self.matching(path, writes_only=True)
