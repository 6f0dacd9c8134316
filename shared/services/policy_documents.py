"""The policy table as a document: what an import reads and an export writes, JSON or YAML.

A document is `{"version": 1, "policies": [...], "pullPolicies": [...]}`. The version is
required: a document of a version this build does not know (or of none) is refused before any row
is read, naming the versions it supports. An import replaces the whole table, so a document that
replaces the rows with nothing (`"policies": []`, or an explicit `"pullPolicies": []`) is refused
unless the caller says `allow_empty`: an empty table denies every request and leaves every rule
unmanaged, which is rarely what a typo meant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.domain.documents import DocumentFormat, load_document
from shared.domain.policies import Policy
from shared.errors import (
    EmptyImportError,
    InvalidPolicyError,
    UnsupportedDocumentVersionError,
)

__all__ = [
    "DOCUMENT_VERSION",
    "MAX_ROWS",
    "RESERVED_IDS",
    "SUPPORTED_VERSIONS",
    "ExportFormat",
    "check_id",
    "dump_document",
    "load_document",
    "parse_document",
]

ExportFormat = DocumentFormat  # what load_document (shared.domain.documents) reads back
DOCUMENT_VERSION = 1  # what an export writes
SUPPORTED_VERSIONS = (1,)  # what an import reads
MAX_ROWS = 2000  # twice ACR's per-registry rule limit: a bigger table is a mistake
RESERVED_IDS = frozenset({"import", "export", "test"})  # literal admin routes beside {id}
_TOP_LEVEL = {"policies", "pullPolicies", "version"}
_SHAPE = '{"version": 1, "policies": [...]}'


def parse_document(data: Any, *, allow_empty: bool = False) -> list[Policy]:
    """Rows of an import document, all validated; the error names the row (position and id) and
    the problem. The version is checked first, then emptiness, then every row."""
    if not isinstance(data, Mapping):
        raise InvalidPolicyError(f"an import document is an object: {_SHAPE}")
    extra = set(data) - _TOP_LEVEL
    if extra:
        names = ", ".join(sorted(str(k) for k in extra))
        raise InvalidPolicyError(f"unknown top-level field(s): {names}; expected {_SHAPE}")
    _check_version(data.get("version"))
    rows = data.get("policies")
    if not isinstance(rows, list):
        raise InvalidPolicyError(f"an import document is {_SHAPE}: 'policies' must be a list")
    if len(rows) > MAX_ROWS:
        raise InvalidPolicyError(f"an import holds at most {MAX_ROWS} rows, not {len(rows)}")
    if not allow_empty:
        _check_not_empty(rows, data.get("pullPolicies"))
    policies: list[Policy] = []
    seen: dict[str, int] = {}
    problems: list[str] = []  # every bad row is named, not only the first
    for index, row in enumerate(rows, start=1):
        label = f"row {index}" + (
            f" (id {row.get('id')!r})" if isinstance(row, Mapping) and row.get("id") else ""
        )
        try:
            policy = Policy.from_dict(row)
            check_id(policy)
        except InvalidPolicyError as exc:
            problems.append(f"{label}: {exc.message}")
            continue
        if policy.id in seen:
            problems.append(f"{label}: id {policy.id!r} repeats row {seen[policy.id]}")
        seen.setdefault(policy.id, index)
        policies.append(policy)
    if problems:
        raise InvalidPolicyError("; ".join(problems))
    return policies


def _check_version(version: Any) -> None:
    supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    if version is None:
        raise UnsupportedDocumentVersionError(
            f"the document has no 'version'; supported versions: {supported} ({_SHAPE})",
            supported=SUPPORTED_VERSIONS,
        )
    # bool is an int in Python: `true` is not version 1, nor is 1.0 or "1"
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or version not in SUPPORTED_VERSIONS
    ):
        shown = repr(version)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise UnsupportedDocumentVersionError(
            f"document version {shown} is not supported; supported versions: {supported}",
            supported=SUPPORTED_VERSIONS,
        )


def _check_not_empty(rows: list[Any], pull_rows: Any) -> None:
    fix = "to empty it on purpose, import again with allow_empty=true (CLI: --allow-empty)"
    if not rows:
        raise EmptyImportError(
            f"the document has no policy rows: importing it would delete every row of the "
            f"policy table; {fix}"
        )
    if isinstance(pull_rows, list) and not pull_rows:
        raise EmptyImportError(
            f"the document's pullPolicies is empty: importing it would delete every pull row; "
            f"leave pullPolicies out to keep them, or {fix}"
        )


def check_id(policy: Policy) -> None:
    """Refuse the ids the admin API's literal routes use beside `policies/{id}`."""
    if policy.id.lower() in RESERVED_IDS:
        raise InvalidPolicyError(f"policy id {policy.id!r} is reserved by the admin API")


def dump_document(document: Mapping[str, Any], fmt: ExportFormat) -> str:
    """Render an export document as JSON or YAML."""
    if fmt == "yaml":
        import yaml  # lazily: only exports and YAML imports need it

        return str(yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
