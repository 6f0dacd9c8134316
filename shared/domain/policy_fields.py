"""The fields of a policy row, read from JSON with an error that names the row and the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from shared.domain.repositories import Upstream
from shared.errors import InvalidInputError, InvalidPolicyError

__all__ = [
    "MAX_PRIORITY",
    "boolean_field",
    "enum_field",
    "optional_text",
    "priority_field",
    "required_text",
    "timestamp_field",
    "upstream_field",
]

MAX_PRIORITY = 100_000
_E = TypeVar("_E", bound=StrEnum)


def required_text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidPolicyError(f"policy field {key!r} is required and must be a non-empty string")
    return value.strip()


def optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPolicyError(f"policy field {key!r} must be a string")
    return value.strip() or None


def upstream_field(data: Mapping[str, Any]) -> Upstream:
    text = required_text(data, "upstream")
    try:
        return Upstream.parse(text, allow_wildcard=True)
    except InvalidInputError as exc:
        raise InvalidPolicyError(f"policy {data.get('id')!r}: bad upstream pattern: {exc}") from exc


def enum_field(kind: type[_E], value: Any, key: str, policy_id: str) -> _E:
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        allowed = " or ".join(m.value for m in kind)
        raise InvalidPolicyError(f"policy {policy_id!r}: {key} must be {allowed}") from None


def priority_field(value: Any, policy_id: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIORITY:
        raise InvalidPolicyError(
            f"policy {policy_id!r}: priority must be a whole number 0-{MAX_PRIORITY}"
        )
    return value


def boolean_field(value: Any, policy_id: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPolicyError(f"policy {policy_id!r}: enabled must be true or false")
    return value


def timestamp_field(value: Any, policy_id: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidPolicyError(
            f"policy {policy_id!r}: changedAt must be an ISO 8601 timestamp"
        ) from None
    if moment.tzinfo is None:
        raise InvalidPolicyError(f"policy {policy_id!r}: changedAt needs a time zone")
    return moment
