"""History reads of the journal's entry partitions (see journal.py for the layout): a page of
outcomes since a time, continued by a cursor naming the last row read, and findings with the
time and signal id of their entry row.

A query touches only the day partitions from today back to `since`'s; the cursor is that last
row's `PartitionKey|RowKey`, and the next page starts strictly after it in the table's own order.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc, load_finding, load_outcome
from shared.adapters.tables._outcomes import day_partition, inverted
from shared.domain.history import RecordedFinding
from shared.errors import InvalidInputError
from shared.history_port import OutcomePage

__all__ = ["outcome_page", "recorded_findings"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_CURSOR = re.compile(r"(outcome-\d{8})\|(\d{18}-[0-9a-f]{32})", re.ASCII)


def _bounds(kind: str, since: datetime | None) -> tuple[str, dict[str, Any]]:
    if since is None:
        return "PartitionKey ge @first and PartitionKey lt @after", {
            "first": f"{kind}-", "after": f"{kind}."}  # fmt: skip
    moment = as_utc(since)
    query = "PartitionKey ge @first and PartitionKey le @last and RowKey lt @before"
    return query, {"first": f"{kind}-", "last": day_partition(kind, moment),
                   "before": f"{inverted(moment)}."}  # fmt: skip


def _read(
    table: LazyTable, query: str, parameters: dict[str, Any], limit: int,
    load: Callable[[Mapping[str, Any]], _T],
) -> tuple[list[_T], Mapping[str, Any] | None]:  # fmt: skip
    items: list[_T] = []
    last: Mapping[str, Any] | None = None
    with sdk_errors("read journal history"):
        rows = table.client().query_entities(
            query, parameters=parameters, results_per_page=min(limit, 1000)
        )
        for entity in rows:
            last = entity
            try:
                items.append(load(entity))
            except (KeyError, TypeError, ValueError) as exc:
                _log.warning("skipping unreadable journal row %s/%s: %s",
                             entity.get("PartitionKey"), entity.get("RowKey"), type(exc).__name__)  # fmt: skip
            if len(items) >= limit:
                break
    return items, last


def outcome_page(
    table: LazyTable, *, since: datetime, limit: int, cursor: str | None
) -> OutcomePage:
    """Outcomes at or after `since`, newest first, `limit` at most, after `cursor`."""
    query, parameters = _bounds("outcome", since)
    if cursor is not None:
        found = _CURSOR.fullmatch(cursor)
        if found is None:
            raise InvalidInputError("cursor is not one this journal gave")
        # the SDK substitutes a parameter only as a word of its own: spaces around each
        query += " and ( PartitionKey gt @cp or ( PartitionKey eq @cp and RowKey gt @cr ) )"
        parameters |= {"cp": found[1], "cr": found[2]}
    if limit <= 0:
        return OutcomePage([], None)
    items, last = _read(table, query, parameters, limit,
                        lambda entity: load_outcome(str(entity["data"])))  # fmt: skip
    more = len(items) >= limit and last is not None
    return OutcomePage(items, f"{last['PartitionKey']}|{last['RowKey']}" if more and last else None)


def _recorded(entity: Mapping[str, Any]) -> RecordedFinding:
    at = entity["at"]
    if not isinstance(at, datetime):
        raise TypeError("the entry has no time")
    return RecordedFinding(load_finding(str(entity["data"])), str(entity.get("signalId", "")),
                           as_utc(at))  # fmt: skip


def recorded_findings(
    table: LazyTable, *, since: datetime | None, limit: int
) -> list[RecordedFinding]:
    """Findings newest first with their entry's time and signal id."""
    if limit <= 0:
        return []
    query, parameters = _bounds("finding", since)
    return _read(table, query, parameters, limit, _recorded)[0]
