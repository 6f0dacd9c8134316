"""Python control surface for pulls: act as a client pulling an image, and change the registry's
own authentication (admin user, role-assignment mode, tokens) the way someone else would."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.acr_auth_json import new_password
from sandbox.arm_acr_auth import ensure_admin_passwords
from sandbox.clock import Clock, parse_time
from sandbox.env import SandboxOptions
from sandbox.state import Registry, State
from sandbox.state_auth import ROLE_ASSIGNMENT_MODES, ScopeMap, Token
from sandbox.wire import Request, Response


def entra_access_token(object_id: str, tenant_id: str = "") -> str:
    """An unsigned Entra-style JWT naming `object_id` in its `oid` claim (what the sandbox's
    `/oauth2/exchange` reads to know the caller)."""

    def part(data: dict[str, str]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    claims = {"oid": object_id, "tid": tenant_id, "aud": "https://management.azure.com/"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sandbox"


def basic_header(user: str, password: str) -> str:
    """An HTTP Basic `Authorization` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class PullControls:
    """Mixin for the Sandbox: pulls and registry authentication, under the sandbox lock."""

    state: State
    clock: Clock
    options: SandboxOptions
    _lock: threading.RLock
    handle: Callable[[Request], Response]
    registry: Callable[[str], Registry]

    def pull(
        self,
        registry: str,
        repository: str,
        reference: str = "latest",
        *,
        as_principal: str | None = None,
        admin: bool = False,
        token: str | None = None,
        password: str | None = None,
    ) -> int:
        """Pull a manifest as a client would (Entra identity through `/oauth2/exchange`, the admin
        user or a token through Basic credentials, or anonymously); the first failing status of
        the flow, else the manifest's (200)."""
        with self._lock:
            reg = self.registry(registry)
            host, tenant = reg.login_server, self.state.tenant_id
            admin_password = ensure_admin_passwords(reg)[0] if admin and password is None else None
        scope = f"repository:{repository}:pull"
        manifest = f"https://{host}/v2/{repository}/manifests/{reference}"
        form = {"service": host, "scope": scope}
        if as_principal is not None:
            body = {"grant_type": "access_token", "service": host,
                    "access_token": entra_access_token(as_principal, tenant)}  # fmt: skip
            answer = self._post_form(f"https://{host}/oauth2/exchange", body)
            if answer.status != 200:
                return answer.status
            form |= {"grant_type": "refresh_token", "refresh_token": answer.json()["refresh_token"]}
            answer = self._post_form(f"https://{host}/oauth2/token", form)
        elif admin or token is not None:
            user = reg.name if admin else str(token)
            secret = password if password is not None else admin_password
            headers = {"Authorization": basic_header(user, secret or "")}
            answer = self.handle(
                Request.from_url("GET", f"https://{host}/oauth2/token?{urlencode(form)}", headers)
            )
        else:
            return self.handle(Request.from_url("GET", manifest)).status
        if answer.status != 200:
            return answer.status
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.handle(Request.from_url("GET", manifest, bearer)).status

    def _post_form(self, url: str, form: dict[str, str]) -> Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.handle(Request.from_url("POST", url, headers, urlencode(form).encode()))

    def set_pull_options(
        self, *, exchange_requires_role: bool | None = None, rbac_denied_status: int | None = None,
        token_denied_status: int | None = None, directory_readable: bool | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Choose the pull answers Azure does not document (docs/fidelity.md), and whether the
        app may read the directory (Microsoft Graph); returns all four."""
        for status in (rbac_denied_status, token_denied_status):
            if status is not None and (isinstance(status, bool) or status not in (401, 403)):
                raise ValueError(f"a denied pull answers 401 or 403, not {status!r}")
        with self._lock:
            if exchange_requires_role is not None:
                self.options.exchange_requires_role = bool(exchange_requires_role)
            if rbac_denied_status is not None:
                self.options.rbac_denied_status = rbac_denied_status
            if token_denied_status is not None:
                self.options.token_denied_status = token_denied_status
            if directory_readable is not None:
                self.options.directory_readable = bool(directory_readable)
            return {
                "directoryReadable": self.options.directory_readable,
                "exchangeRequiresRole": self.options.exchange_requires_role,
                "rbacDeniedStatus": self.options.rbac_denied_status,
                "tokenDeniedStatus": self.options.token_denied_status,
            }

    def pull_log(
        self, table: str | None = "ContainerRegistryRepositoryEvents"
    ) -> list[dict[str, Any]]:
        """The resource-log rows the data plane wrote, oldest first: `ContainerRegistryRepositoryEvents`
        (manifest requests) and `ContainerRegistryLoginEvents` (refused logins), or one `table`."""
        with self._lock:
            return [dict(r) for r in self.state.pull_log if table is None or r["Type"] == table]

    def set_admin_user(self, registry: str, enabled: bool) -> None:
        """Enable or disable the registry's admin user."""
        with self._lock:
            self.registry(registry).auth.admin_user_enabled = bool(enabled)

    def admin_password(self, registry: str, which: int = 0) -> str:
        """One of the admin user's two passwords (what `listCredentials` returns)."""
        with self._lock:
            return ensure_admin_passwords(self.registry(registry))[which]

    def set_role_assignment_mode(self, registry: str, mode: str) -> None:
        """Switch `roleAssignmentMode` (credentials issued before are then refused)."""
        if mode not in ROLE_ASSIGNMENT_MODES:
            raise ValueError(f"mode must be one of {ROLE_ASSIGNMENT_MODES}, not {mode!r}")
        with self._lock:
            self.registry(registry).auth.role_assignment_mode = mode

    def add_token(
        self,
        registry: str,
        name: str,
        scope_map_actions: list[str],
        *,
        enabled: bool = True,
        expiry: datetime | str | None = None,
    ) -> str:
        """Create (or replace) a token with a scope map `<name>-scope-map` of these actions and
        one password (`password1`, expiring at `expiry`); returns the password."""
        with self._lock:
            reg = self.registry(registry)
            now = self.clock.now()
            map_name = f"{name}-scope-map"
            reg.auth.scope_maps[map_name.lower()] = ScopeMap(map_name, list(scope_map_actions), now)
            token = Token(name, f"{reg.id}/scopeMaps/{map_name}", now,
                          "enabled" if enabled else "disabled")  # fmt: skip
            entry = new_password("password1", now, None if expiry is None else parse_time(expiry))
            token.passwords.append(entry)
            reg.auth.tokens[name.lower()] = token
            return entry.value

    def set_token(
        self, registry: str, name: str, *, enabled: bool | None = None,
        scope_map_actions: list[str] | None = None, expiry: datetime | str | None = None,
    ) -> None:  # fmt: skip
        """Change a token: its status, its scope map's actions, its passwords' expiry."""
        with self._lock:
            reg = self.registry(registry)
            token = reg.auth.tokens[name.lower()]
            if enabled is not None:
                token.status = "enabled" if enabled else "disabled"
            if scope_map_actions is not None and token.scope_map_id:
                key = token.scope_map_id.rsplit("/", 1)[-1].lower()
                reg.auth.scope_maps[key].actions = list(scope_map_actions)
            if expiry is not None:
                for entry in token.passwords:
                    entry.expiry = parse_time(expiry)
