"""`cachekeeper credential-set ...`: the declared credential sets from a terminal.

    cachekeeper credential-set list [--registry R]      declared against actual, per registry
    cachekeeper credential-set show NAME                one declaration
    cachekeeper credential-set apply FILE [--dry-run]   make the declarations exactly the file's
                                                        (JSON or YAML), then show the plan

Declaring changes nothing in Azure: `cachekeeper plan` and `apply` (or the audit's reconcile)
carry the declarations out. Exit status: 0 nothing to change, 1 something to change, 2 error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli.backends import Backend
from shared.errors import InvalidInputError

__all__ = ["add_parser", "render", "run"]

CLEAN, CHANGES = 0, 1
_TO_CHANGE = {"missing", "differs", "to-delete"}


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `credential-set` command and its actions."""
    parser = commands.add_parser("credential-set", help="declared credential sets")
    actions = parser.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", parents=[common], help="declared against actual")
    listed.add_argument("--registry", help="a managed registry (default: all)")
    show = actions.add_parser("show", parents=[common], help="one declaration")
    show.add_argument("name")
    apply = actions.add_parser("apply", parents=[common], help="declare the file's sets")
    apply.add_argument("file", help='{"version": 1, "credentialSets": [...]} (- for stdin)')
    apply.add_argument("--dry-run", action="store_true", help="validate and report only")


def _document(path: str, stdin: TextIO) -> Any:
    from shared.domain.documents import load_document

    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error}") from None
    return load_document(text, "yaml" if path.lower().endswith((".yaml", ".yml")) else "json")


def run(args: argparse.Namespace, backend: Backend, stdin: TextIO) -> tuple[dict[str, Any], int]:
    """Run one `credential-set` action; its JSON answer and the exit status."""
    if args.action == "show":
        return backend.declared_set(args.name), CLEAN
    if args.action == "apply":
        imported = backend.import_declared(_document(args.file, stdin), dry_run=args.dry_run)
        planned = backend.plan({})
        return {"imported": imported, "plan": planned}, CHANGES if planned["actions"] else CLEAN
    registries = [
        {"registry": s["registry"], "credentialSets": s.get("declaredCredentialSets") or []}
        for s in backend.status(args.registry)
    ]
    pending = any(c["state"] in _TO_CHANGE for r in registries for c in r["credentialSets"])
    return {"registries": registries}, CHANGES if pending else CLEAN


def render(args: argparse.Namespace, result: dict[str, Any]) -> str:
    """The answer as text for a person."""
    if args.action == "show":
        return "\n".join(f"{key}: {value}" for key, value in result.items() if key != "etag")
    if args.action == "apply":
        imported, plan = result["imported"], result["plan"]
        lines = [f"declared: {', '.join(imported['written']) or 'none'}"
                 + (f"; forgotten: {', '.join(imported['deleted'])}" if imported["deleted"] else "")
                 + (" (dry run)" if imported["dryRun"] else "")]  # fmt: skip
        lines += [f"plan {plan['planId']}: {plan['summary']}"]
        lines += [f"  {a['kind']} {a['resource'].rsplit('/', 1)[-1]}" for a in plan["actions"]]
        return "\n".join(lines)
    lines = []
    for registry in result["registries"]:
        lines.append(registry["registry"])
        lines += [f"  {c['name']} {c['state']}" for c in registry["credentialSets"]] or [
            "  no declared credential sets"
        ]
    return "\n".join(lines)
