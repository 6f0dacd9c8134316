"""Refused cache rules in the journal table: partition `refusal`, one row per rule.

The RowKey is the SHA-256 of the lower-cased rule id (table keys forbid `/`); the `registry`
column (lower case) lets one query read a registry's refusals.
"""

from __future__ import annotations

import hashlib
import json
import logging

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.domain.refusals import RuleRefusal

__all__ = ["load_refusals", "save_refusal"]

_log = logging.getLogger(__name__)
_REFUSAL = "refusal"


def save_refusal(table: LazyTable, refusal: RuleRefusal) -> None:
    """Insert or replace the rule's refusal."""
    from azure.data.tables import UpdateMode

    entity = {
        "PartitionKey": _REFUSAL,
        "RowKey": hashlib.sha256(refusal.rule.lower().encode()).hexdigest(),
        "registry": refusal.registry.lower()[:1_000],
        "data": json.dumps(refusal.to_dict(), ensure_ascii=True)[:32_000],
    }
    with sdk_errors(f"remember the refusal of {refusal.rule}"):
        table.client().upsert_entity(entity, mode=UpdateMode.REPLACE)


def load_refusals(table: LazyTable, registry: str) -> list[RuleRefusal]:
    """Every remembered refusal of a rule in `registry`; unreadable rows are skipped."""
    found: list[RuleRefusal] = []
    with sdk_errors(f"list refused rules of {registry}"):
        rows = table.client().query_entities(
            "PartitionKey eq @partition and registry eq @registry",
            parameters={"partition": _REFUSAL, "registry": registry.lower()},
        )
        for row in rows:
            try:
                found.append(RuleRefusal.from_dict(json.loads(str(row["data"]))))
            except (KeyError, TypeError, ValueError):
                _log.warning("skipping unreadable refusal row %s", row.get("RowKey"))
    return found
