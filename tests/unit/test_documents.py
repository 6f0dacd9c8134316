"""The document loader: hostile JSON and YAML is an InvalidDocumentError (or a 413's
PayloadTooLargeError), never a RecursionError, ValueError or a string that cannot be written."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from shared.domain.documents import (
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    check_limits,
    encodable,
    escaped,
    load_document,
    load_json,
    load_yaml,
)
from shared.errors import InvalidDocumentError, PayloadTooLargeError

DEEP_JSON = b"[" * 5000 + b"]" * 5000
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 10)}]\n" for c in "bcdefghij"
)

HOSTILE_JSON = {
    "nested 5,000 deep": DEEP_JSON,
    "nested one past the limit": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    "an integer of 5,000 digits": b'{"priority": ' + b"9" * 5000 + b"}",
    "an integer just over the limit": b"[" + b"1" * (MAX_INTEGER_DIGITS + 1) + b"]",
    "1e400": b'{"NBF": 1e400}',
    "NaN": b'{"x": NaN}',
    "-Infinity": b"[-Infinity]",
    "a lone surrogate in a value": b'{"id": "abc\\ud800"}',
    "a lone surrogate in a key": b'{"\\udfff": 1}',
    "not UTF-8": b'{"a": "\xff"}',
    "malformed": b"{not json",
}
HOSTILE_YAML = {
    "nested 2,000 deep": "a:" + " [" * 2000 + " ]" * 2000,
    "an integer of 5,000 digits": "priority: " + "9" * 5000,
    "a hexadecimal integer of 5,000 digits": "priority: 0x" + "f" * 5000,
    "an alias bomb": ALIAS_BOMB,
    "a lone surrogate": 'id: "abc\\ud800"',
    "infinity": "x: .inf",
    "a month 13": "when: 2026-13-01",
    "malformed": "a: [",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
def test_hostile_json_is_an_invalid_document(case: str) -> None:
    with pytest.raises(InvalidDocumentError):
        load_json(HOSTILE_JSON[case])


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_an_invalid_document(case: str) -> None:
    with pytest.raises(InvalidDocumentError):
        load_yaml(HOSTILE_YAML[case])


def test_the_size_limit_is_a_payload_too_large() -> None:
    for fmt in ("json", "yaml"):
        with pytest.raises(PayloadTooLargeError):
            load_document(b"[" + b"0," * 600 + b"0]", fmt, max_bytes=1000)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "document",
    [
        {
            "policies": [
                {"id": "mcr-all", "priority": 2**63, "enabled": True, "description": "é ✓ 🙂"}
            ]
        },
        [[[[{"x": -1.5e300}]]]],
        {"deepest": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))},
        None,
    ],
)
def test_ordinary_documents_read_back_unchanged(document: Any) -> None:
    text = json.dumps(document)
    assert load_json(text) == load_json(text.encode()) == document
    assert (
        load_yaml(yaml.safe_dump(document))
        == load_yaml(yaml.safe_dump(document).encode())
        == document
    )


def test_an_empty_json_body_is_null() -> None:
    assert load_json(b"") is None
    assert load_json("  \n") is None


def test_parsed_events_are_checked_against_the_same_limits() -> None:
    for bad in ({"data": {"NBF": 10**400}}, {"id": "x\ud800"}, {"\udc00": 1}, {"x": float("nan")}):
        with pytest.raises(InvalidDocumentError):
            check_limits(bad)
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(InvalidDocumentError):
        check_limits(deep)
    check_limits({"id": "ok", "data": {"NBF": 1_700_000_000, "nested": [[["é"]]]}})


def test_lone_surrogates_are_found_and_escaped() -> None:
    assert encodable("plain") and encodable("é 🙂")
    assert not encodable("a\ud800b")
    assert escaped("a\ud800b") == "a\\ud800b"
    assert escaped("é") == "é"
