"""The `cachekeeper` command line: the policy table from a terminal or a pipeline.

    python -m cli policy import policies.yaml [--dry-run] [--changed-by NAME] [--allow-empty]
    python -m cli policy export [-o json|yaml] [--file policies.yaml]
    python -m cli policy test docker.io/library/nginx [--registry contosocache]
    python -m cli policy test --target dockerhub/library/nginx --registry contosocache
    python -m cli audit [--registry R] [--reconcile] [--output table|json]
    python -m cli plan [--registry R [--credential-set C | --repository P]]
    python -m cli apply --plan-id ID [the same scope options]
    python -m cli status [R]
    python -m cli events send FILE|- [--function F]
    python -m cli sandbox serve [--port 7072]

(`cachekeeper ...` once installed; operator commands: cli/ops.py.) Every command but `sandbox`
takes `--settings FILE`, `--url URL` and `--key KEY`, before or after the command's name.

It runs the same services as the admin API, in-process over the configured stores and
registries or against a running app (cli/backends.py), so validation and answers are
identical. Policy results are JSON on stdout; errors go to stderr. Exit status, for every
command: 0 clean / done, 1 findings or refused (something to change), 2 error (bad input, stale
plan, unreachable app, a failure).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from cli.backends import CommandFailedError
from cli.deadline import DeadlineExceeded, deadline
from cli.ops import COMMANDS, add_commands, backend_for, connection_options, run_command
from shared.domain.time_budgets import RUN_TIMEOUT
from shared.errors import CachekeeperError, InvalidInputError

__all__ = ["main"]

_YAML_SUFFIXES = (".yaml", ".yml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cachekeeper", description=__doc__.split("\n\n")[0])
    connection_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True)
    policy = commands.add_parser("policy", help="the policy table")
    actions = policy.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="replace the whole table with a JSON or YAML file")
    imp.add_argument("file", help="the document to import ('-' for standard input)")
    imp.add_argument("--format", choices=("json", "yaml"), help="default: from the file's suffix")
    imp.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    imp.add_argument("--changed-by", help="recorded on changed rows (default: your user name)")
    imp.add_argument(
        "--allow-empty", action="store_true", help="let a document with no rows empty the table"
    )
    exp = actions.add_parser("export", help="print or write the whole table")
    exp.add_argument("--output", "-o", "--format", dest="format", choices=("json", "yaml"),
                     help="default: from --file's suffix, else json")  # fmt: skip
    exp.add_argument("--file", help="write to this file instead of standard output")
    test = actions.add_parser("test", help="which row decides, and what a request would do")
    test.add_argument(
        "upstream", nargs="?", help="an upstream repository, e.g. docker.io/library/nginx"
    )
    test.add_argument("--target", help="a repository path inside the registry instead")
    test.add_argument("--registry", help="a managed registry (default: every managed registry)")
    for sub in (imp, exp, test):
        connection_options(sub)
    add_commands(commands)
    return parser


def _format(explicit: str | None, path: str | None) -> Literal["json", "yaml"]:
    if explicit:
        return "yaml" if explicit == "yaml" else "json"
    return "yaml" if path and path.lower().endswith(_YAML_SUFFIXES) else "json"


def _import(args: argparse.Namespace, stdin: TextIO) -> Any:
    from shared.services import policies

    backend = backend_for(args)
    fmt = _format(args.format, args.file)
    try:
        text = stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {args.file}: {exc}") from None
    document = policies.load_document(text, fmt)
    changed_by = args.changed_by or f"cli:{getpass.getuser()}"
    return backend.import_policies(
        document, dry_run=args.dry_run, changed_by=changed_by, allow_empty=args.allow_empty
    )


def _export(args: argparse.Namespace, out: TextIO) -> None:
    text = backend_for(args).export_policies(_format(args.format, args.file))
    if args.file:
        try:
            Path(args.file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write {args.file}: {exc}") from None
    else:
        out.write(text)


def _test(args: argparse.Namespace) -> tuple[Any, bool]:
    if (args.upstream is None) == (args.target is None):
        raise InvalidInputError("give an upstream repository or --target, not both")
    request: dict[str, Any] = (
        {"upstream": args.upstream} if args.upstream else {"target": args.target}
    )
    if args.registry:
        request["registry"] = args.registry
    answer = backend_for(args).test_policies(request)
    refused = any(r["status"] in ("rejected", "ignored") for r in answer["results"])
    return answer, refused


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command, stopped at the run deadline (cli/deadline.py); returns the exit status."""
    out, err, stdin = out or sys.stdout, err or sys.stderr, stdin or sys.stdin
    args = _parser().parse_args(argv)  # a usage error exits 2 (argparse)
    try:
        with deadline(RUN_TIMEOUT):
            return _run(args, out, err, stdin)
    except DeadlineExceeded as stopped:
        err.write(f"cachekeeper: {stopped.message}\n")
        return 2
    except Exception as error:  # every failure is exit status 2, with a message
        err.write(f"cachekeeper: {type(error).__name__}: {error}\n")
        return 2


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    if args.command in COMMANDS:
        return run_command(args, out=out, err=err, stdin=stdin)
    refused = False
    try:
        if args.action == "import":
            result: Any = _import(args, stdin)
        elif args.action == "export":
            _export(args, out)
            return 0
        else:
            result, refused = _test(args)
    except (InvalidInputError, CommandFailedError) as error:
        err.write(f"cachekeeper: {error.message}\n")
        return 2
    except CachekeeperError as error:
        err.write(f"cachekeeper: {type(error).__name__}: {error.message}\n")
        return 2
    out.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
