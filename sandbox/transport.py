"""azure-core transports into the sandbox, and a static token credential.

`SandboxTransport` is azure-core's own `RequestsTransport` with the HTTP adapter swapped for one
that answers in-process, so responses are the very types `RequestsTransport` returns (legacy
`RequestsTransportResponse` and `azure.core.rest` `RestRequestsTransportResponse`), streaming
included. `ForwardingTransport` sends the same requests to `python -m sandbox` over HTTP.

This module knows the sandbox only as something that answers a `Request` (`Answers`), so it
imports nothing of `sandbox.core`: the core makes transports, never the other way round.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.transport import AsyncioRequestsTransport, RequestsTransport
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from sandbox.errors import HostNotFoundError, SimulatedTimeoutError
from sandbox.wire import Request, Response

FAKE_TOKEN = "sandbox-token"
_TOKEN_LIFETIME_S = 3600


class Answers(Protocol):
    """What a transport sends into: the Sandbox (`Sandbox.handle`)."""

    def handle(self, request: Request) -> Response:
        """Answer one request (raises SimulatedTimeoutError / HostNotFoundError)."""
        ...


class StaticTokenCredential:
    """TokenCredential + SupportsTokenInfo that always returns the same fake token."""

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A fake token valid for an hour."""
        return AccessToken(FAKE_TOKEN, int(time.time()) + _TOKEN_LIFETIME_S)

    def get_token_info(
        self, *scopes: str, options: Mapping[str, Any] | None = None
    ) -> AccessTokenInfo:
        """A fake token valid for an hour."""
        return AccessTokenInfo(FAKE_TOKEN, int(time.time()) + _TOKEN_LIFETIME_S)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def forwarded(base_url: str, url: str) -> tuple[str, str]:
    """Where `https://{azure host}/path?query` goes on the sandbox server at `base_url`, and the
    Azure host the server routes by (sent in `Host` and `X-Forwarded-Host`)."""
    original = urlsplit(url)
    suffix = original.path + (f"?{original.query}" if original.query else "")
    return base_url.rstrip("/") + suffix, original.hostname or ""


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "read"):
        data = body.read()
        return data.encode() if isinstance(data, str) else bytes(data)
    return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in body)


def to_requests_response(
    adapter: HTTPAdapter, prepared: requests.PreparedRequest, response: Response
) -> requests.Response:
    """Wrap a sandbox Response as `requests` would build it from a urllib3 response."""
    headers = dict(response.headers)
    headers["Content-Length"] = str(len(response.body))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    raw = HTTPResponse(
        body=io.BytesIO(response.body),
        headers=headers,
        status=response.status,
        reason=reason,
        preload_content=False,
        decode_content=False,
        request_method=prepared.method,
        request_url=prepared.url,
    )
    return adapter.build_response(prepared, raw)


class _InProcessAdapter(HTTPAdapter):
    """A requests adapter whose 'network' is a function call into the sandbox."""

    def __init__(self, answer: Callable[[Request], Response]) -> None:
        super().__init__()
        self._answer = answer

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **_: Any
    ) -> requests.Response:
        sandbox_request = Request.from_url(
            str(request.method),
            str(request.url),
            {k: v if isinstance(v, str) else v.decode() for k, v in request.headers.items()},
            body_bytes(request.body),
        )
        try:
            answer = self._answer(sandbox_request)
        except HostNotFoundError as err:
            raise requests.exceptions.ConnectionError(str(err), request=request) from err
        except SimulatedTimeoutError as err:
            raise requests.exceptions.ReadTimeout(str(err), request=request) from err
        return to_requests_response(self, request, answer)


class _ServedInProcess:
    """What both transports share: no proxy or environment settings, and every request served
    by the sandbox in-process through the requests session's adapter."""

    def __init__(self, sandbox: Answers, *, sleep_scale: float = 1.0, **kwargs: Any) -> None:
        kwargs.setdefault("use_env_settings", False)
        super().__init__(**kwargs)
        self._sandbox = sandbox
        self._sleep_scale = sleep_scale

    def _init_session(self, session: requests.Session) -> None:
        session.trust_env = False
        adapter = _InProcessAdapter(self._sandbox.handle)
        for prefix in ("http://", "https://"):
            session.mount(prefix, adapter)


class SandboxTransport(_ServedInProcess, RequestsTransport):  # type: ignore[misc]
    """An azure-core HttpTransport that serves SDK requests from a Sandbox, in-process.

    `sleep_scale` multiplies the pipeline's sleeps (retry back-off, LRO polling); 0 makes them
    instant, 1 (default) keeps real timing for latency measurements.
    """

    def sleep(self, duration: float) -> None:
        """Sleep, scaled."""
        time.sleep(duration * self._sleep_scale)


class AsyncSandboxTransport(_ServedInProcess, AsyncioRequestsTransport):  # type: ignore[misc]
    """The async twin of SandboxTransport: azure-core's `AsyncioRequestsTransport` (requests in
    an executor) with the same in-process adapter, for the SDKs' async clients."""

    async def sleep(self, duration: float) -> None:
        """Sleep, scaled."""
        await asyncio.sleep(duration * self._sleep_scale)


class _ForwardingAdapter(HTTPAdapter):
    """Rewrites `https://{azure host}/path` to the sandbox server, keeping the host in a header."""

    def __init__(self, base_url: str, pool_maxsize: int) -> None:
        # Every request goes to one host (the server): size its pool for the caller's
        # concurrency, or connections beyond requests' default 10 are opened and dropped per call.
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize)
        self._base = base_url.rstrip("/")

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        copied = request.copy()
        copied.url, host = forwarded(self._base, str(request.url))
        copied.headers["X-Forwarded-Host"] = copied.headers["Host"] = host
        response = super().send(copied, *args, **kwargs)
        response.url = str(request.url)
        return response


class ForwardingTransport(RequestsTransport):  # type: ignore[misc]
    """An azure-core transport that sends ARM/Key Vault requests to `python -m sandbox` over HTTP."""

    def __init__(self, base_url: str, *, pool_maxsize: int = 64, **kwargs: Any) -> None:
        kwargs.setdefault("use_env_settings", False)
        self._base_url = base_url
        self._pool_maxsize = pool_maxsize
        super().__init__(**kwargs)

    def _init_session(self, session: requests.Session) -> None:
        session.trust_env = False
        adapter = _ForwardingAdapter(self._base_url, self._pool_maxsize)
        for prefix in ("http://", "https://"):
            session.mount(prefix, adapter)
