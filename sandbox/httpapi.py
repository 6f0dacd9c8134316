"""One HTTP entry point: `/_sandbox/...` control, plus ARM / Key Vault traffic forwarded to us.

ARM/Key Vault requests are recognised by their Azure host name, taken from `X-Forwarded-Host`,
else `Host`, else a `/_azure/{host}/...` path prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sandbox.control import PREFIX, HttpResult, handle_control
from sandbox.env import ARM_HOST, KEYVAULT_SUFFIX
from sandbox.graph import GRAPH_HOST
from sandbox.wire import Request

if TYPE_CHECKING:
    from sandbox.core import Sandbox

AZURE_PREFIX = "/_azure/"


ACR_SUFFIX = ".azurecr.io"  # registry login servers: the ACR data plane (catalog, token exchange)


def _azure_host(value: str) -> str | None:
    host = value.split(":", 1)[0].strip().lower()
    azure = host in (ARM_HOST, GRAPH_HOST) or host.endswith((KEYVAULT_SUFFIX, ACR_SUFFIX))
    return host if azure else None


def serve_http(  # noqa: PLR0917 - mirrors the handle_http signature the dev host calls
    sb: Sandbox,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
) -> HttpResult:
    """Serve control or Azure traffic; raises SimulatedTimeoutError / HostNotFoundError for the caller."""
    if path == PREFIX or path.startswith(PREFIX + "/"):
        return handle_control(sb, method, path, query, body)
    lowered = {k.lower(): v for k, v in headers.items()}
    host = _azure_host(lowered.get("x-forwarded-host", "")) or _azure_host(lowered.get("host", ""))
    if host is None and path.startswith(AZURE_PREFIX):
        first, _, rest = path[len(AZURE_PREFIX) :].partition("/")
        host, path = _azure_host(first), "/" + rest
    if host is None:
        return 404, {"Content-Type": "application/json"}, b'{"error": "not an Azure host"}'
    url = f"https://{host}{path}" + (f"?{urlencode(query)}" if query else "")
    response = sb.handle(Request.from_url(method, url, headers, body))
    return response.status, response.headers, response.body
