"""JSON forms of journal entries: size-capped for a table column, and rebuilt into dataclasses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.domain.plans import ActionKind, Finding, Outcome, OutcomeStatus, Severity

__all__ = [
    "MAX_JSON_CHARS",
    "as_utc",
    "dump_finding",
    "dump_outcome",
    "load_finding",
    "load_outcome",
]

# A string property holds at most 64 KiB of UTF-16, i.e. 32,768 characters of the ASCII-only JSON
# that `ensure_ascii` produces; the margin leaves room for the truncation markers.
MAX_JSON_CHARS = 32_000
_MAX_TEXT = 2_000
_TRUNCATED = "…[truncated]"


def dump_outcome(outcome: Outcome) -> str:
    """The outcome as JSON that fits one table column (bulky fields truncated if needed)."""
    return _fit(
        outcome.to_dict(),
        bulky=("before", "after"),
        texts=("reason", "resource", "signalId", "health"),
    )


def dump_finding(finding: Finding) -> str:
    """The finding as JSON that fits one table column (evidence truncated if needed)."""
    return _fit(
        finding.to_dict(), bulky=("evidence",), texts=("message", "fix", "resource", "kind")
    )


def load_outcome(text: str) -> Outcome:
    """Rebuild an Outcome from `dump_outcome`'s JSON; ValueError/KeyError/TypeError when bad."""
    data = _object(text)
    action = data.get("action")
    return Outcome(
        signal_id=str(data["signalId"]),
        resource=str(data["resource"]),
        status=OutcomeStatus(data["status"]),
        reason=str(data["reason"]),
        at=datetime.fromisoformat(str(data["at"])),
        action=ActionKind(action) if action is not None else None,
        before=_mapping(data.get("before")),
        after=_mapping(data.get("after")),
        health=None if data.get("health") is None else str(data["health"]),
    )


def load_finding(text: str) -> Finding:
    """Rebuild a Finding from `dump_finding`'s JSON; ValueError/KeyError/TypeError when bad."""
    data = _object(text)
    return Finding(
        kind=str(data["kind"]),
        severity=Severity(data["severity"]),
        resource=str(data["resource"]),
        message=str(data["message"]),
        fix=None if data.get("fix") is None else str(data["fix"]),
        evidence=_mapping(data.get("evidence")),
    )


def as_utc(moment: datetime) -> datetime:
    """A plain, timezone-aware UTC datetime (naive input is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # Rebuilt field by field: the SDK hands back a datetime subclass with extra state.
    return datetime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        tzinfo=UTC,
    )


def _dumps(value: Any) -> str:
    # ASCII-only output makes "characters" and "UTF-16 code units" the same count.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)


def _fit(doc: dict[str, Any], *, bulky: tuple[str, ...], texts: tuple[str, ...]) -> str:
    text = _dumps(doc)
    if len(text) <= MAX_JSON_CHARS:
        return text
    # Record the entry with what was cut and how much, rather than fail to record it at all.
    for key in texts:
        value = doc.get(key)
        if isinstance(value, str) and len(_dumps(value)) > _MAX_TEXT:
            doc[key] = _shorten(value, _MAX_TEXT)
    # The biggest mappings go first; smaller ones stay whole when the document fits without them.
    for key in sorted(bulky, key=lambda k: len(_dumps(doc[k])), reverse=True):
        text = _dumps(doc)
        if len(text) <= MAX_JSON_CHARS:
            return text
        original = _dumps(doc[key])
        doc[key] = {"truncated": True, "originalChars": len(original)}
        preview = original[: max(0, MAX_JSON_CHARS - len(_dumps(doc)) - 64)]
        # Escaping can grow a string; shrink the preview until the document fits.
        while preview:
            doc[key]["preview"] = preview
            if len(_dumps(doc)) <= MAX_JSON_CHARS:
                break
            preview = preview[: len(preview) // 2]
        else:
            doc[key].pop("preview", None)
    return _dumps(doc)


def _shorten(value: str, limit: int) -> str:
    cut = value[: limit // 6]  # \uXXXX escapes: at most six characters per code point
    return cut + _TRUNCATED


def _object(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("a journal entry must be a JSON object")
    return data


def _mapping(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value
