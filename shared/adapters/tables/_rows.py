"""Row writes whose answer may be lost, and the reads that resolve them.

Table Storage can apply a write whose answer never arrives (a connection reset or a read timeout
after the request went out). azure-core's RetryPolicy resends PUT and DELETE after such an error
but not POST (an insert) or PATCH (a merge), so an insert surfaces it as a transient error; and a
resent write meets its own result: a conditional replace answers 412 (the ETag is the one it just
wrote), a delete 404. A write of a row that carries a token unique to the attempt is therefore
resolved by reading the row back: the token in it means the write landed (`read_row`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import sdk_errors
from shared.errors import (
    ConcurrencyError,
    NotFoundError,
    ThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    from azure.data.tables import TableClient

__all__ = ["UNANSWERED", "etag_of", "read_row", "replace_unless_changed"]

# the transient errors after which a write may have landed, its answer lost
UNANSWERED = (UpstreamUnavailableError, UpstreamTimeoutError, ThrottledError)


def read_row(client: TableClient, partition: str, row: str, what: str) -> Any | None:
    """The row, or None when there is none (a transient error propagates)."""
    try:
        with sdk_errors(what):
            return client.get_entity(partition, row)
    except NotFoundError:
        return None


def etag_of(entity: Any) -> str:
    """The ETag of a row read with `read_row`."""
    return str(entity.metadata["etag"])


def replace_unless_changed(client: TableClient, entity: dict[str, Any], etag: str) -> str | None:
    """Replace a row only if it still has `etag`: its new ETag, or None when someone changed or
    deleted it (a resent replace whose first attempt landed is None too: read the row back)."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    try:
        with sdk_errors(f"replace row {entity['PartitionKey']}/{entity['RowKey']}"):
            written = client.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
    except (ConcurrencyError, NotFoundError):
        return None
    return str(written["etag"])
