"""Declared credential sets as operators edit them: CRUD with ETags, and the whole list as one
document (`{"version": 1, "credentialSets": [...]}`, JSON or YAML) to export and import.

Every write validates first and writes nothing when anything is wrong: the declaration's own
rules (`DeclaredCredentialSet.validate`: names, the upstream auth table) and secret URIs in
allow-listed vaults only. What the declarations make of the registries is the audit's plan
(`POST /api/plan`, `POST /api/apply`): editing a declaration changes nothing in Azure by itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.declared_port import StoredDeclaration
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.errors import ConcurrencyError, InvalidInputError, NotFoundError
from shared.services.context import Context
from shared.services.policy_documents import DOCUMENT_VERSION, SUPPORTED_VERSIONS

__all__ = [
    "ImportedDeclarations",
    "delete_declared",
    "export_declared",
    "get_declared",
    "import_declared",
    "list_declared",
    "parse_declared",
    "put_declared",
]

MAX_DECLARATIONS = 500  # ACR allows 100 credential sets per registry (service tier limits)


@dataclass(frozen=True, slots=True)
class ImportedDeclarations:
    """What an import wrote (or, in a dry run, would write)."""

    written: tuple[str, ...]
    deleted: tuple[str, ...]
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "written": list(self.written),
            "deleted": list(self.deleted),
        }


def _vaults(ctx: Context) -> list[str]:
    return [v.name for v in ctx.settings.vault_allowlist]


def list_declared(ctx: Context) -> list[StoredDeclaration]:
    """Every declaration, in name order."""
    return ctx.policies.list_declared_sets()


def get_declared(ctx: Context, name: str) -> StoredDeclaration:
    """One declaration; NotFoundError when absent."""
    return ctx.policies.get_declared_set(name)


def put_declared(
    ctx: Context, name: str, data: Any, *, if_match: str | None = None
) -> StoredDeclaration:
    """Validate and write one declaration (the URL's name; a body's must agree)."""
    if isinstance(data, Mapping) and "name" not in data:
        data = {**data, "name": name}
    declaration = DeclaredCredentialSet.from_dict(data, vaults=_vaults(ctx))
    if declaration.name != name.lower():
        raise InvalidInputError(
            f"the body's name {declaration.name!r} does not match the URL's {name!r}"
        )
    _precondition(ctx, declaration.name, if_match)
    return ctx.policies.put_declared_set(declaration, if_match=if_match)


def delete_declared(ctx: Context, name: str, *, if_match: str | None = None) -> None:
    """Delete one declaration (the credential set itself stays: it becomes undeclared)."""
    _precondition(ctx, name, if_match)
    ctx.policies.delete_declared_set(name, if_match=if_match)


def _precondition(ctx: Context, name: str, if_match: str | None) -> None:
    # As for policy rows: a malformed ETag or a vanished row reads as "changed since".
    if if_match is None:
        return
    try:
        current = ctx.policies.get_declared_set(name).etag
    except NotFoundError:
        raise ConcurrencyError(f"credential set {name!r} is not declared (If-Match)") from None
    if current != if_match:
        raise ConcurrencyError(f"credential set {name!r} changed since it was read")


def export_declared(ctx: Context) -> dict[str, Any]:
    """The declarations as an import document."""
    return {
        "version": DOCUMENT_VERSION,
        "credentialSets": [s.declaration.to_dict() for s in list_declared(ctx)],
    }


def parse_declared(ctx: Context, data: Any) -> list[DeclaredCredentialSet]:
    """Every declaration of an import document, validated; the error names the entry."""
    if not isinstance(data, Mapping) or set(data) - {"version", "credentialSets"}:
        raise InvalidInputError('an import document is {"version": 1, "credentialSets": [...]}')
    if data.get("version") not in SUPPORTED_VERSIONS:
        raise InvalidInputError(f"unsupported document version {data.get('version')!r}")
    entries = data.get("credentialSets")
    if not isinstance(entries, list) or len(entries) > MAX_DECLARATIONS:
        raise InvalidInputError(f'"credentialSets" must be a list of at most {MAX_DECLARATIONS}')
    declared: dict[str, DeclaredCredentialSet] = {}
    for position, entry in enumerate(entries):
        try:
            declaration = DeclaredCredentialSet.from_dict(entry, vaults=_vaults(ctx))
        except InvalidInputError as error:
            raise InvalidInputError(f"credentialSets[{position}]: {error}") from None
        if declaration.name in declared:
            raise InvalidInputError(f"credentialSets[{position}]: {declaration.name!r} repeats")
        declared[declaration.name] = declaration
    return list(declared.values())


def import_declared(ctx: Context, data: Any, *, dry_run: bool = False) -> ImportedDeclarations:
    """Make the declarations exactly the document's: all validated before anything is written;
    new and changed rows are written before stale ones are deleted (a rerun finishes a partial
    import)."""
    wanted = parse_declared(ctx, data)
    names = {d.name for d in wanted}
    stale = tuple(s.declaration.name for s in list_declared(ctx) if s.declaration.name not in names)
    if not dry_run:
        for declaration in wanted:
            ctx.policies.put_declared_set(declaration)
        for name in stale:
            with contextlib.suppress(NotFoundError):  # deleted meanwhile: the goal holds
                ctx.policies.delete_declared_set(name)
    return ImportedDeclarations(tuple(sorted(names)), stale, dry_run)
