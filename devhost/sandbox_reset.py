"""`POST /_sandbox/reset?stores=true` on the local host: the sandbox back to its scenario, and
the product's stores emptied with it, so a second try starts where the first one did.

The sandbox owns the emulated Azure; the journal (outcomes, findings, idempotency records, kept
audit reports) and the policy table are the product's, in Azurite (or in memory), so the local
host resets them: every entity of the tables the settings name is deleted (the tables stay),
then the app's Context is built again, which seeds the scenario's policy rows into the empty
policy table as at start-up, and this worker's counters start from zero.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from devhost.replies import Reply, problem

__all__ = ["STORE_RESETS", "reset_with_stores"]

log = logging.getLogger("devhost")
SandboxHandler = Callable[
    [str, str, dict[str, str], dict[str, str], bytes], tuple[int, dict[str, str], bytes]
]
STORE_RESETS = (
    "journal: outcomes, findings, idempotency records, pending verifications",
    "audit reports",
    "policy table: emptied, then seeded with the scenario's policy rows",
    "this worker's counters (GET /api/metrics)",
)


def reset_with_stores(handle_http: SandboxHandler, stores: str, headers: dict[str, str]) -> Reply:
    """Reset the sandbox, then (`stores` "true") the stores: the sandbox's answer with the
    stores added to `reset`; "false" is the sandbox's own reset."""
    if stores.lower() not in ("true", "false"):
        return problem(400, "Bad Request", "stores is true or false")
    status, reply_headers, body = handle_http("POST", "/_sandbox/reset", {}, headers, b"")
    if status != 200 or stores.lower() == "false":
        return Reply(status, list(reply_headers.items()), body)
    try:
        cleared = _clear_stores()
    except Exception:
        log.exception("could not reset the journal and policy table")
        return problem(503, "Service Unavailable", "the stores could not be reset; see the log")
    from sandbox.control_reset import STORES_KEPT

    answer = json.loads(body)
    answer["reset"] = [*answer.get("reset", []), *STORE_RESETS]
    answer["kept"] = [kept for kept in answer.get("kept", []) if kept != STORES_KEPT]
    answer["clearedEntities"] = cleared
    return Reply(200, [("Content-Type", "application/json")], json.dumps(answer).encode())


def _clear_stores() -> dict[str, int]:
    """Empty the product's tables and rebuild the Context; entities deleted per table."""
    from sandbox.wiring import sandbox_mode_context
    from shared import bootstrap
    from shared.observability import METRICS

    settings = bootstrap.settings()
    cleared: dict[str, int] = {}
    connection = settings.storage_connection
    if connection is not None:
        cleared = _empty_tables(connection, (settings.policy_table, settings.journal_table))
    bootstrap.configure(context=sandbox_mode_context(settings))  # memory stores start empty
    METRICS.reset()
    return cleared


def _empty_tables(connection: str, prefixes: tuple[str, ...]) -> dict[str, int]:
    """Delete every entity of each table whose name starts with one of `prefixes`."""
    from shared.adapters.tables import tables_service

    if "=" not in connection:
        raise ValueError("the local host resets stores only through a connection string")
    service = tables_service(connection, credential=None)
    cleared: dict[str, int] = {}
    for table in service.list_tables():
        if not table.name.lower().startswith(tuple(p.lower() for p in prefixes)):
            continue
        client = service.get_table_client(table.name)
        entities = list(client.list_entities(select=["PartitionKey", "RowKey"]))
        for entity in entities:
            client.delete_entity(entity["PartitionKey"], entity["RowKey"])
        cleared[table.name] = len(entities)
    return cleared
