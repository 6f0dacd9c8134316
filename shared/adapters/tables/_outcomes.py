"""Journal entry rows (day partitions, newest first) and outcomes recorded once per identity.

An entry's PartitionKey is `<kind>-<99999999 - YYYYMMDD>` and its RowKey the inverted microsecond
timestamp plus a random suffix (see journal.py). An outcome is first claimed in partition
`outcome_identity` (it sorts outside the entry partitions) under the SHA-256 of
`Outcome.identity()` with an insert (of two writers exactly one wins), a row that also carries
the entry row's coordinates and data; then the entry row is upserted. A retry finds the identity
row and upserts the same entry row again: one failed or lost write of either row converges on
exactly one entry, and a repeat keeps the first outcome. An identity insert whose answer was lost
is read back at once: the entry coordinates it holds say whether it was this call's.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.adapters.tables._rows import UNANSWERED, read_row
from shared.errors import ConflictError

if TYPE_CHECKING:
    from azure.data.tables import TableClient

__all__ = ["day_partition", "entry", "inverted", "record_once"]

_IDENTITIES = "outcome_identity"  # "_" sorts after "-" and ".": outside `outcome-…`
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MICROS = 10**18 - 1  # above year 9999 in microseconds, so 18 digits always suffice
_MAX_DAY = 99_999_999
_ATTEMPTS = 3  # identity inserts, lost or raced


def day_partition(kind: str, moment: datetime) -> str:
    day = moment.year * 10_000 + moment.month * 100 + moment.day
    return f"{kind}-{_MAX_DAY - day:08d}"


def inverted(moment: datetime) -> str:
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return f"{_MAX_MICROS - micros:018d}"


def entry(kind: str, at: datetime, signal_id: str, data: str) -> dict[str, Any]:
    """A new journal entry row of `kind` at `at`."""
    moment = as_utc(at)
    return {
        "PartitionKey": day_partition(kind, moment),
        "RowKey": f"{inverted(moment)}-{uuid.uuid4().hex}",
        "at": moment,  # typed columns for people reading the table; `data` is the record
        "signalId": signal_id[:1_000],  # a column holds at most 64 KiB
        "data": data,
    }


def record_once(table: LazyTable, identity: str, row: dict[str, Any]) -> bool:
    """Write the entry `row` of the outcome `identity` unless one was recorded; True when this
    call recorded it, False when an earlier one had (its entry row is written again, as it was)."""
    from azure.data.tables import UpdateMode

    client = table.client()
    key = hashlib.sha256(identity.encode("utf-8")).hexdigest()
    claim = {
        "PartitionKey": _IDENTITIES,
        "RowKey": key,
        "identity": identity[:1_000],
        "entryPartition": row["PartitionKey"],
        "entryRow": row["RowKey"],
        "at": row["at"],
        "signalId": row["signalId"],
        "data": row["data"],
    }
    first = True
    known = _insert_identity(client, claim)
    if known is not None and known["entryRow"] != row["RowKey"]:
        first = False  # an earlier attempt recorded this outcome: write its entry row again
        row = {
            "PartitionKey": str(known["entryPartition"]),
            "RowKey": str(known["entryRow"]),
            "at": known["at"],
            "signalId": known["signalId"],
            "data": known["data"],
        }
    with sdk_errors(f"record outcome of signal {row['signalId']!r}"):
        client.upsert_entity(row, mode=UpdateMode.REPLACE)
    return first


def _insert_identity(client: TableClient, claim: dict[str, Any]) -> Any | None:
    """Insert the identity row; None when this insert wrote it, else the row that is there (ours
    when an insert landed unanswered: its entry coordinates are this call's)."""
    what = f"outcome identity of signal {claim['signalId']!r}"
    for _ in range(_ATTEMPTS - 1):
        try:
            with sdk_errors(f"record {what}"):
                client.create_entity(claim)
            return None
        except ConflictError:
            pass
        except UNANSWERED:
            pass  # it may have landed: the read below tells
        known = read_row(client, _IDENTITIES, claim["RowKey"], f"read {what}")
        if known is not None:
            return known
    with sdk_errors(f"record {what}"):
        client.create_entity(claim)  # the last try: its error is the answer
    return None
