"""The journal on Azurite for the benchmarks: the product's own `TableJournal` over the product's
own client factory (`tables_service`), with every Table Storage request counted.

Counting goes through azure-core's public `raw_request_hook` (its `CustomHookPolicy` sits after
the retry policy, so the hook sees every attempt: retries are counted). Table creation on first
use is counted too (a fresh worker pays it once per process), under its own kind.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from devhost.azurite import start_azurite
from shared.adapters.tables import TableJournal, tables_service

__all__ = ["Journals", "TableCalls", "azurite_journals", "table_kind"]


def table_kind(method: str, url: str) -> str:
    """A short name for one Table Storage request: its verb and the partition it touches."""
    path = unquote(urlsplit(url).path)
    last = path.rsplit("/", 1)[-1]
    if last == "Tables":
        return "create table"
    if last == "$batch":
        return "transaction"
    if "PartitionKey='" in last:
        partition = last.split("PartitionKey='", 1)[1].split("'", 1)[0]
        return f"{method} {partition.split('-', 1)[0]}"
    return "query" if method == "GET" else f"{method} insert"


class TableCalls:
    """Every request the product's table clients sent since the last `clear()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: list[str] = []

    def hook(self, request: Any) -> None:
        """azure-core's `raw_request_hook`: called with each PipelineRequest, retries included."""
        http = request.http_request
        with self._lock:
            self._kinds.append(table_kind(http.method, http.url))

    def clear(self) -> None:
        """Forget what was counted."""
        with self._lock:
            self._kinds.clear()

    def count(self) -> int:
        """Requests counted."""
        with self._lock:
            return len(self._kinds)

    def by_kind(self) -> dict[str, int]:
        """Requests counted, by kind."""
        with self._lock:
            return dict(Counter(self._kinds))


class Journals:
    """Fresh journals (one new table each) on one Azurite, with one request counter."""

    def __init__(self, connection_string: str) -> None:
        self.calls = TableCalls()
        self.service = tables_service(connection_string, raw_request_hook=self.calls.hook)
        self.weights_table = f"weights{uuid.uuid4().hex[:16]}"  # for a Table request timed alone

    def new(self) -> TableJournal:
        """A journal on a table of its own: a fresh worker's journal, as the product builds it."""
        return TableJournal(self.service, f"bench{uuid.uuid4().hex[:16]}")


@contextlib.contextmanager
def azurite_journals() -> Iterator[Journals]:
    """An Azurite table service for the block, and journals on it."""
    with start_azurite() as running:
        yield Journals(running.connection_string)
