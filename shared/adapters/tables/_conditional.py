"""ETag-conditional writes and deletes of one row, the way every store with ETags does them.

`subject` names the row in errors ("policy 'x'", "credential set 'y'"), `what` in the SDK's
failures ("policy 'x'", "declared credential set 'y'").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import sdk_errors
from shared.errors import ConcurrencyError, NotFoundError

if TYPE_CHECKING:
    from azure.core.pipeline import PipelineResponse
    from azure.data.tables import TableClient

__all__ = ["delete_row", "put_row"]


def put_row(
    client: TableClient, entity: dict[str, Any], *, if_match: str | None, subject: str, what: str
) -> str:
    """Insert or replace the row and answer its new ETag; with `if_match`, ConcurrencyError
    when the row changed since (deleted since counts as changed, as in the memory stores)."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    _refuse_empty(if_match, subject)
    if if_match is None:
        with sdk_errors(f"write {what}"):
            written = client.upsert_entity(entity, mode=UpdateMode.REPLACE)
        return str(written["etag"])
    try:
        with sdk_errors(f"replace {what}"):
            written = client.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=if_match,
                match_condition=MatchConditions.IfNotModified,
            )  # fmt: skip
    except (ConcurrencyError, NotFoundError):
        raise ConcurrencyError(f"{subject} changed since it was read") from None
    return str(written["etag"])


def delete_row(
    client: TableClient,
    partition: str,
    row: str,
    *,
    if_match: str | None,
    subject: str,
    what: str,
) -> bool:
    """Delete the row (with `if_match`, only if unchanged: ConcurrencyError otherwise); False
    when there was none. The SDK swallows a 404 on delete; the response hook still sees it,
    which tells "missing" apart from "deleted" in one request without a racy read first."""
    from azure.core import MatchConditions

    _refuse_empty(if_match, subject)
    statuses: list[int] = []

    def remember(response: PipelineResponse[Any, Any]) -> None:
        statuses.append(response.http_response.status_code)

    condition = (
        MatchConditions.Unconditionally if if_match is None else MatchConditions.IfNotModified
    )
    try:
        with sdk_errors(f"delete {what}"):
            client.delete_entity(
                partition, row, etag=if_match, match_condition=condition,
                raw_response_hook=remember,
            )  # fmt: skip
    except ConcurrencyError:
        raise ConcurrencyError(f"{subject} changed since it was read") from None
    return not (statuses and statuses[-1] == 404)


def _refuse_empty(if_match: str | None, subject: str) -> None:
    if if_match == "":
        raise ConcurrencyError(f"{subject}: an empty ETag matches no row")
