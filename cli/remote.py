"""The CLI against a running app: the admin API over HTTP, with the function key as
`x-functions-key` (`--key` or `$CACHEKEEPER_FUNCTION_KEY`; the local host checks none).

Answers are the admin API's JSON; a problem+json answer becomes a CommandFailedError naming its title
and detail, and `409` from `POST /api/apply` a PlanStaleError carrying the new plan.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

from cli.errors import CommandFailedError, PlanStaleError

__all__ = ["Remote"]

_TIMEOUT_SECONDS = 330  # an audit may run up to the host's 5-minute function timeout
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Remote:
    """One running app at `base` (`local`: the sandbox-mode default, the local host)."""

    def __init__(self, base: str, key: str | None, *, local: bool = False) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommandFailedError(f"--url must be an http(s) URL, not {base!r}")
        self.base, self.key, self.local = base.rstrip("/"), key, local
        self.where = self.base
        proxies: dict[str, str] | None = {} if parts.hostname in _LOOPBACK else None
        handlers = [urllib.request.ProxyHandler(proxies)] if proxies is not None else []
        self._opener = urllib.request.build_opener(*handlers)

    # -- the operations ------------------------------------------------------------------------
    def audit(
        self,
        registry: str | None,
        reconcile: bool | None,
        progress: Callable[[int], Callable[[str], None] | None],
    ) -> dict[str, Any]:
        if reconcile:
            raise CommandFailedError(
                "--reconcile runs in-process only: over --url the app's AUTO_RECONCILE decides; "
                "apply the audit's plan with `cachekeeper apply --plan-id ID` instead"
            )
        query = {"dry_run": "true"} if reconcile is False else {}
        body = {"registry": registry} if registry else {}
        return self._json("POST", "/api/audit", body, query)

    def plan(self, scope: Mapping[str, str]) -> dict[str, Any]:
        return self._json("POST", "/api/plan", dict(scope))

    def apply(self, scope: Mapping[str, str], plan_id: str) -> dict[str, Any]:
        status, answer = self._call("POST", "/api/apply", {**scope, "planId": plan_id})
        if status == 409 and isinstance(answer, dict) and isinstance(answer.get("plan"), dict):
            raise PlanStaleError(str(answer.get("detail") or "the plan is stale"), answer["plan"])
        return self._checked(status, answer)

    def status(self, registry: str | None) -> list[dict[str, Any]]:
        if registry:
            names = [registry]
        else:
            managed = self._json("GET", "/api/status").get("managedRegistries") or []
            names = [str(rid).rstrip("/").rsplit("/", 1)[-1] for rid in managed]
        return [self._json("GET", f"/api/registries/{quote(n, safe='')}/status") for n in names]

    def import_policies(
        self, document: Any, *, dry_run: bool, changed_by: str, allow_empty: bool
    ) -> dict[str, Any]:
        # The app records its caller (App Service authentication) or "function key", not --changed-by.
        query = {"dry_run": "true"} if dry_run else {}
        if allow_empty:
            query["allow_empty"] = "true"
        return self._json("POST", "/api/policies/import", document, query)

    def export_policies(self, fmt: Literal["json", "yaml"]) -> str:
        status, answer = self._call("GET", "/api/export/policies", None, {"format": fmt}, raw=True)
        if status != 200:
            self._checked(status, _parsed(answer))
        return str(answer)

    def test_policies(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/policies/test", dict(request))

    def declared_set(self, name: str) -> dict[str, Any]:
        return self._json("GET", f"/api/credential-sets/declared/{quote(name, safe='')}")

    def import_declared(self, document: Any, *, dry_run: bool) -> dict[str, Any]:
        query = {"dry_run": "true"} if dry_run else {}
        return self._json("PUT", "/api/credential-sets/declared", document, query)

    # -- HTTP ----------------------------------------------------------------------------------
    def _json(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        status, answer = self._call(method, path, body, query)
        return self._checked(status, answer)

    def _checked(self, status: int, answer: Any) -> dict[str, Any]:
        if 200 <= status < 300 and isinstance(answer, dict):
            return answer
        problem = answer if isinstance(answer, dict) else {}
        title = problem.get("title") or f"HTTP {status}"
        detail = problem.get("detail") or (answer if isinstance(answer, str) else "")
        hint = (
            " (pass the function key with --key or $CACHEKEEPER_FUNCTION_KEY)"
            if status == 401
            else ""
        )
        raise CommandFailedError(
            f"{self.base} answered {status} {title}: {str(detail)[:500]}{hint}"
        )

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        *,
        raw: bool = False,
    ) -> tuple[int, Any]:
        url = self.base + path + (f"?{urlencode(dict(query))}" if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.key:
            headers["x-functions-key"] = self.key
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self._opener.open(request, timeout=_TIMEOUT_SECONDS) as reply:
                status, text = reply.status, reply.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            with error:
                status, text = error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            hint = (
                ": start it with `make run` (sandbox mode talks to the local host), or pass --url"
                if self.local
                else ""
            )
            raise CommandFailedError(f"cannot reach {self.base} ({reason}){hint}") from None
        return status, text if raw and 200 <= status < 300 else _parsed(text)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text
