"""The operator commands of `cachekeeper`: audit, plan, apply, status, events send, sandbox serve.

They run the same services as the admin API, in-process against the configured stores and
registries, or against a running app over its admin API (`--url`; in sandbox mode the local
host): cli/backends.py. `--output table` (default) or `json`.
Exit status: 0 clean / done, 1 findings (or something to change, or a failed action), 2 error
(bad input, stale plan, unreachable host, Azure errors).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from cli import credential_sets, tables
from cli.backends import (
    LOCAL_HOST_URL,
    Backend,
    CommandFailedError,
    PlanStaleError,
    Progress,
    choose_backend,
)
from shared.errors import CachekeeperError, InvalidInputError

__all__ = ["COMMANDS", "add_commands", "backend_for", "connection_options", "run_command"]

COMMANDS = frozenset({"audit", "plan", "apply", "status", "events", "sandbox", "credential-set"})
CLEAN, FINDINGS, ERROR = 0, 1, 2
_WEBHOOK_FUNCTIONS = {
    "microsoft.keyvault.": "on_keyvault_event",
    "cachekeeper.pullfailed": "on_pull_failure",
    "cachekeeper.repositoryrequested": "on_repository_requested",
    "microsoft.containerregistry.": "on_registry_event",
}


def connection_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """`--settings`, `--url`, `--key`, before the sub-command (`top`) or after it: there they
    default to SUPPRESS, so an option given before is not reset by the sub-command."""
    env = os.environ.get
    defaults = (None, env("CACHEKEEPER_URL"), env("CACHEKEEPER_FUNCTION_KEY"))
    settings, url, key = defaults if top else (argparse.SUPPRESS,) * 3
    parser.add_argument(
        "--settings", type=Path, default=settings,
        help="a local.settings.json whose Values fill unset settings",
    )  # fmt: skip
    parser.add_argument(
        "--url", default=url,
        help="a running app (default: $CACHEKEEPER_URL; sandbox mode: http://127.0.0.1:7071)",
    )  # fmt: skip
    parser.add_argument(
        "--key", default=key, help="the app's function key (default: $CACHEKEEPER_FUNCTION_KEY)"
    )


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--output", "-o", choices=("table", "json"), default="table")
    connection_options(common)
    return common


def _scope_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", help="a managed registry (default: all)")
    narrow = parser.add_mutually_exclusive_group()
    narrow.add_argument("--credential-set", help="narrow to one credential set of --registry")
    narrow.add_argument("--repository", help="narrow to one repository path of --registry")


def add_commands(commands: Any) -> None:
    """Add the operator sub-commands to the `cachekeeper` parser's sub-parsers."""
    common = _common()
    audit = commands.add_parser("audit", parents=[common], help="audit the managed registries now")
    audit.add_argument("--registry", help="only this managed registry")
    audit.add_argument("--reconcile", action=argparse.BooleanOptionalAction, default=None,
                       help="apply the safe fixes (default: AUTO_RECONCILE)")  # fmt: skip
    plan = commands.add_parser("plan", parents=[common], help="what would change (dry run)")
    _scope_options(plan)
    apply = commands.add_parser("apply", parents=[common], help="apply a plan by id")
    _scope_options(apply)
    apply.add_argument("--plan-id", required=True, help="the id `cachekeeper plan` printed")
    status = commands.add_parser("status", parents=[common], help="rules, credential sets, health")
    status.add_argument("registry", nargs="?", help="a managed registry (default: all)")
    credential_sets.add_parser(commands, common)
    events = commands.add_parser("events", help="send events to a running host")
    send = events.add_subparsers(dest="action", required=True).add_parser(
        "send", help="POST an event file to the host's Event Grid webhook (or alert endpoint)"
    )
    send.add_argument(
        "file", help="Event Grid / CloudEvents JSON, or an alert payload ('-': stdin)"
    )
    send.add_argument("--function", help="the Event Grid function (default: from the event type)")
    connection_options(send)
    sandbox = commands.add_parser("sandbox", help="the emulated Azure")
    serve = sandbox.add_subparsers(dest="action", required=True).add_parser(
        "serve", help="serve the sandbox over HTTP on 127.0.0.1"
    )
    serve.add_argument("--port", type=int, default=7072)
    serve.add_argument("--scenario", default="sandbox/scenarios/demo.yaml")


def _load_settings(path: Path | None) -> None:
    if path is None:
        return
    try:
        values = json.loads(path.read_text(encoding="utf-8-sig")).get("Values", {})
    except (OSError, ValueError, AttributeError) as exc:
        raise InvalidInputError(f"cannot read settings file {path}: {exc}") from None
    for name, value in values.items():
        os.environ.setdefault(str(name), str(value))
    from shared import bootstrap

    bootstrap.reset()


def backend_for(args: argparse.Namespace) -> Backend:
    """The settings file loaded, then where this command runs (cli/backends.py)."""
    _load_settings(args.settings)
    return choose_backend(args.url, args.key)


def _progress(err: TextIO) -> Progress:
    def reporter(total: int) -> Callable[[str], None] | None:
        if total < 2:
            return None
        done: list[str] = []
        tty = err.isatty()

        def report(registry: str) -> None:
            done.append(registry)
            end = "" if tty and len(done) < total else "\n"
            err.write(f"{chr(13) if tty else ''}[{len(done)}/{total}] observed {registry}{end}")
            err.flush()

        return report

    return reporter


def _serious(findings: Any) -> bool:
    return any(f.get("severity") != "info" for f in findings or [])


def _audit(args: argparse.Namespace, err: TextIO) -> tuple[dict[str, Any], int]:
    report = backend_for(args).audit(args.registry, args.reconcile, _progress(err))
    if report.get("partial"):
        err.write(f"partial audit: {report.get('partialReason')}\n")
        return report, FINDINGS  # a partial audit is never clean
    return report, FINDINGS if _serious(report.get("findings")) else CLEAN


def _scope(args: argparse.Namespace) -> dict[str, str]:
    fields = {"registry": args.registry, "credentialSet": args.credential_set,
              "repository": args.repository}  # fmt: skip
    return {k: v for k, v in fields.items() if v is not None}


def _plan(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    scoped = backend_for(args).plan(_scope(args))
    changes = scoped.get("actions") or _serious(scoped.get("findings"))
    return scoped, FINDINGS if changes else CLEAN


def _apply(args: argparse.Namespace, err: TextIO) -> tuple[dict[str, Any], int]:
    try:
        applied = backend_for(args).apply(_scope(args), args.plan_id)
    except PlanStaleError as stale:
        err.write(f"cachekeeper: {stale.message}; nothing was applied\n")
        return {"stale": True, "plan": stale.plan}, ERROR
    failed = any(o.get("status") == "failed" for o in applied.get("outcomes") or [])
    return applied, FINDINGS if failed else CLEAN


def _status(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    statuses = backend_for(args).status(args.registry)
    troubled = any(
        c["health"]["status"] != "Healthy" or any(s["state"] != "ok" for s in c["secrets"].values())
        for status in statuses
        for c in status["credentialSets"]
    )
    return {"registries": statuses}, FINDINGS if troubled else CLEAN


def _event_target(document: Any, function: str | None) -> tuple[str, dict[str, str]]:
    first = document[0] if isinstance(document, list) and document else document
    if not isinstance(first, Mapping):
        raise InvalidInputError("the file must hold an event, a list of events, or an alert")
    if str(first.get("schemaId", "")).lower() == "azuremonitorcommonalertschema":
        return "/api/alerts/pull-failures", {"Content-Type": "application/json"}
    kind = str(first.get("eventType") or first.get("type") or "").lower()
    name = function or next((f for p, f in _WEBHOOK_FUNCTIONS.items() if kind.startswith(p)), None)
    if name is None:
        raise InvalidInputError(f"no function for event type {kind!r}: pass --function")
    cloud = "specversion" in {str(k).lower() for k in first}
    return f"/runtime/webhooks/EventGrid?functionName={name}", {
        "Content-Type": "application/cloudevents+json" if cloud else "application/json",
        "aeg-event-type": "Notification",
    }


def _send(args: argparse.Namespace, stdin: TextIO) -> tuple[dict[str, Any], int]:
    try:
        body = stdin.read().encode() if args.file == "-" else Path(args.file).read_bytes()
        document = json.loads(body)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read {args.file}: {exc}") from None
    path, headers = _event_target(document, args.function)
    if args.key:
        headers["x-functions-key"] = args.key
    base = args.url or LOCAL_HOST_URL
    url = base.rstrip("/") + path
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError("--url must be an http(s) URL")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
            status, text = reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        raise InvalidInputError(f"cannot reach {base}: {error}") from None
    ok = 200 <= status < 300
    return {"url": url, "status": status, "response": text[:4000]}, CLEAN if ok else ERROR


def _serve(args: argparse.Namespace) -> int:
    from sandbox.server import main as serve_sandbox

    serve_sandbox(["--port", str(args.port), "--scenario", args.scenario])
    return CLEAN


def run_command(args: argparse.Namespace, *, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """Run one operator command; returns the exit status."""
    try:
        if args.command == "sandbox":
            return _serve(args)
        if args.command == "events":
            result, code = _send(args, stdin)
            out.write(json.dumps(result, indent=2) + "\n")
            return code
        handlers: dict[str, Callable[[], tuple[dict[str, Any], int]]] = {
            "audit": lambda: _audit(args, err),
            "plan": lambda: _plan(args),
            "apply": lambda: _apply(args, err),
            "status": lambda: _status(args),
            "credential-set": lambda: credential_sets.run(args, backend_for(args), stdin),
        }
        result, code = handlers[args.command]()
    except CommandFailedError as error:
        err.write(f"cachekeeper: {error.message}\n")
        return ERROR
    except CachekeeperError as error:
        err.write(f"cachekeeper: {type(error).__name__}: {error.message}\n")
        return ERROR
    if args.output == "json":
        out.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    elif args.command == "credential-set":
        out.write(credential_sets.render(args, result) + "\n")
    elif args.command == "status":
        out.write("\n\n".join(tables.render_status(s) for s in result["registries"]) + "\n")
    else:
        render = {"audit": tables.render_audit, "plan": tables.render_plan,
                  "apply": tables.render_apply}[args.command]  # fmt: skip
        if result.get("stale"):  # the new plan, for the operator to review and apply
            render, result = tables.render_plan, result["plan"]
        out.write(render(result) + "\n")
    return code
