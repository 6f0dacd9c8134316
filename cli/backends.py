"""Where a command runs: in this process over the configured stores and Azure (`InProcess`), or
against a running app over its admin API (`cli/remote.py`). Both answer with the same JSON the
admin API returns, so rendering and exit statuses do not depend on where the command ran.

Which one: `--url` (or `$CACHEKEEPER_URL`) names a running app; without one, sandbox mode talks
to the local host `make run` serves (an emulated Azure only lives as long as its process, so a
plan made by one invocation must meet the same sandbox in the next); otherwise the command runs
in-process against the configured Azure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from cli.errors import CommandFailedError, PlanStaleError
from cli.wiring import context

__all__ = [
    "LOCAL_HOST_URL",
    "Backend",
    "CommandFailedError",
    "InProcess",
    "PlanStaleError",
    "choose_backend",
]

LOCAL_HOST_URL = "http://127.0.0.1:7071"
ExportFormat = Literal["json", "yaml"]
Progress = Callable[[int], Callable[[str], None] | None]  # registries to audit -> a reporter


class Backend(Protocol):
    """The operations the CLI runs; JSON in the admin API's shapes."""

    where: str

    def audit(
        self, registry: str | None, reconcile: bool | None, progress: Progress
    ) -> dict[str, Any]: ...
    def plan(self, scope: Mapping[str, str]) -> dict[str, Any]: ...
    def apply(self, scope: Mapping[str, str], plan_id: str) -> dict[str, Any]: ...
    def status(self, registry: str | None) -> list[dict[str, Any]]: ...
    def import_policies(
        self, document: Any, *, dry_run: bool, changed_by: str, allow_empty: bool
    ) -> dict[str, Any]: ...
    def export_policies(self, fmt: ExportFormat) -> str: ...
    def test_policies(self, request: Mapping[str, Any]) -> dict[str, Any]: ...
    def declared_set(self, name: str) -> dict[str, Any]: ...
    def import_declared(self, document: Any, *, dry_run: bool) -> dict[str, Any]: ...


class InProcess:
    """The services themselves, over the stores and registries the settings name."""

    where = "in-process"

    def audit(
        self, registry: str | None, reconcile: bool | None, progress: Progress
    ) -> dict[str, Any]:
        from shared.services.reports import audit_now

        ctx = context()
        total = 1 if registry else len(ctx.settings.managed_registries)
        report = audit_now(ctx, registry=registry, reconcile=reconcile, progress=progress(total))
        return report.to_dict()

    def plan(self, scope: Mapping[str, str]) -> dict[str, Any]:
        from shared.services.plans import parse_scope, plan_scope

        ctx = context()
        return plan_scope(ctx, parse_scope(ctx, dict(scope))).to_dict()

    def apply(self, scope: Mapping[str, str], plan_id: str) -> dict[str, Any]:
        from shared.services.plans import StalePlanError, apply_scope, parse_scope

        ctx = context()
        try:
            return apply_scope(ctx, parse_scope(ctx, dict(scope)), plan_id).to_dict()
        except StalePlanError as stale:
            raise PlanStaleError(stale.message, stale.current.to_dict()) from None

    def status(self, registry: str | None) -> list[dict[str, Any]]:
        from shared.services.status import registry_status

        ctx = context()
        names = [registry] if registry else [r.name for r in ctx.settings.managed_registries]
        return [registry_status(ctx, name) for name in names]

    def import_policies(
        self, document: Any, *, dry_run: bool, changed_by: str, allow_empty: bool
    ) -> dict[str, Any]:
        from shared.services import policies

        result = policies.import_policies(
            context(), document, dry_run=dry_run, changed_by=changed_by, allow_empty=allow_empty
        )
        return result.to_dict()

    def export_policies(self, fmt: ExportFormat) -> str:
        from shared.services import policies

        return policies.dump_document(policies.export_policies(context()), fmt)

    def test_policies(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from shared.services import policies

        return policies.explain_request(context(), dict(request))

    def declared_set(self, name: str) -> dict[str, Any]:
        from shared.services import declared_sets

        stored = declared_sets.get_declared(context(), name)
        return {**stored.declaration.to_dict(), "etag": stored.etag}

    def import_declared(self, document: Any, *, dry_run: bool) -> dict[str, Any]:
        from shared.services import declared_sets

        return declared_sets.import_declared(context(), document, dry_run=dry_run).to_dict()


def choose_backend(url: str | None, key: str | None) -> Backend:
    """`url` (a running app); else, in sandbox mode, the local host; else this process.

    A Context configured in this process already (a test's) is used as it is."""
    from shared import bootstrap

    if url is None and not bootstrap.has_context() and bootstrap.settings().mode == "sandbox":
        from cli.remote import Remote

        return Remote(LOCAL_HOST_URL, key, local=True)
    if url is None:
        return InProcess()
    from cli.remote import Remote

    return Remote(url, key)
