"""The `cachekeeper` command line: the policy table from a terminal or a pipeline.

    python -m cli policy import policies.yaml [--dry-run] [--changed-by NAME] [--allow-empty]
    python -m cli policy export [--format yaml] [--output policies.yaml]
    python -m cli policy test docker.io/library/nginx [--registry contosocache]
    python -m cli policy test --target dockerhub/library/nginx --registry contosocache
    python -m cli audit [--registry R] [--reconcile] [--output table|json]
    python -m cli plan [--registry R [--credential-set C | --repository P]]
    python -m cli apply --plan-id ID [the same scope options]
    python -m cli status [R]
    python -m cli events send FILE [--url http://127.0.0.1:7071]
    python -m cli sandbox serve [--port 7072]

(`cachekeeper ...` once installed; operator commands: cli/ops.py, exit 0 clean, 1
findings, 2 error.)

It talks to the configured stores and registries (cli/wiring.py: the same settings as the app)
and runs the same services as the admin API, so validation and answers are identical. Results are
JSON on stdout; errors go to stderr. Exit status: 0 done, 1 refused or failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from cli.deadline import deadline
from cli.ops import COMMANDS, add_commands, run_command
from cli.wiring import context
from shared.domain.time_budgets import RUN_TIMEOUT
from shared.errors import CachekeeperError, InvalidInputError

__all__ = ["main"]

_YAML_SUFFIXES = (".yaml", ".yml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cachekeeper", description=__doc__.split("\n\n")[0])
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
    exp.add_argument("--format", choices=("json", "yaml"), default=None)
    exp.add_argument("--output", "-o", help="write to this file instead of standard output")
    test = actions.add_parser("test", help="which row decides, and what a request would do")
    test.add_argument(
        "upstream", nargs="?", help="an upstream repository, e.g. docker.io/library/nginx"
    )
    test.add_argument("--target", help="a repository path inside the registry instead")
    test.add_argument("--registry", help="a managed registry (default: every managed registry)")
    add_commands(commands)
    return parser


def _format(explicit: str | None, path: str | None) -> Literal["json", "yaml"]:
    if explicit:
        return "yaml" if explicit == "yaml" else "json"
    return "yaml" if path and path.lower().endswith(_YAML_SUFFIXES) else "json"


def _import(args: argparse.Namespace, stdin: TextIO) -> Any:
    from shared.services import policies

    fmt = _format(args.format, args.file)
    try:
        text = stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {args.file}: {exc}") from None
    document = policies.load_document(text, fmt)
    changed_by = args.changed_by or f"cli:{getpass.getuser()}"
    result = policies.import_policies(
        context(), document, dry_run=args.dry_run, changed_by=changed_by,
        allow_empty=args.allow_empty,
    )  # fmt: skip
    return result.to_dict()


def _export(args: argparse.Namespace, out: TextIO) -> None:
    from shared.services import policies

    fmt = _format(args.format, args.output)
    text = policies.dump_document(policies.export_policies(context()), fmt)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        out.write(text)


def _test(args: argparse.Namespace) -> tuple[Any, bool]:
    from shared.services import policies

    if (args.upstream is None) == (args.target is None):
        raise InvalidInputError("give an upstream repository or --target, not both")
    request: dict[str, Any] = (
        {"upstream": args.upstream} if args.upstream else {"target": args.target}
    )
    if args.registry:
        request["registry"] = args.registry
    answer = policies.explain_request(context(), request)
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
    args = _parser().parse_args(argv)
    with deadline(RUN_TIMEOUT):
        return _run(args, out, err, stdin)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    if args.command in COMMANDS:
        return run_command(args, out=out, err=err)
    refused = False
    try:
        if args.action == "import":
            result: Any = _import(args, stdin)
        elif args.action == "export":
            _export(args, out)
            return 0
        else:
            result, refused = _test(args)
    except InvalidInputError as error:
        err.write(f"cachekeeper: {error.message}\n")
        return 2
    except CachekeeperError as error:
        err.write(f"cachekeeper: {type(error).__name__}: {error.message}\n")
        return 1
    out.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
