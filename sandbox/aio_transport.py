"""azure-core asyncio transports into the sandbox, for the SDKs' `aio` clients.

`SandboxAsyncTransport` answers in-process: each request is handed to the (synchronous) emulator
in a worker thread, so injected latency never blocks the event loop and calls overlap as they do
on a network. `ForwardingAioHttpTransport` is azure-core's own aiohttp transport, sending to
`python -m sandbox` over HTTP with the Azure host kept in `Host` and `X-Forwarded-Host`, as
`ForwardingTransport` does for the synchronous clients.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpTransport
from azure.core.rest._http_response_impl_async import AsyncHttpResponseImpl
from azure.core.utils import case_insensitive_dict

from sandbox.errors import HostNotFoundError, SimulatedTimeoutError
from sandbox.transport import body_bytes, forwarded
from sandbox.wire import Request, Response

if TYPE_CHECKING:
    from sandbox.core import Sandbox

__all__ = ["ForwardingAioHttpTransport", "SandboxAsyncTransport"]

# Calls answered at once in-process (each waits out its injected latency in a thread).
IN_FLIGHT = 64


class _Answered:
    """The 'internal response' of an in-process answer: its body is already in memory."""

    def __init__(self, response: Response) -> None:
        self.response = response

    async def close(self) -> None:
        """Nothing to release."""


def _whole_body(body: bytes) -> Callable[..., AsyncIterator[bytes]]:
    # azure-core's stream_download_generator protocol: called with (response, pipeline, ...)
    def generator(**_: Any) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            if body:
                yield body

        return chunks()

    return generator


def _request_body(request: Any) -> bytes:
    content = getattr(request, "content", None)
    if isinstance(content, Mapping):  # a form (data=...): URL-encoded, as on the wire
        return urlencode(list(content.items()), doseq=True).encode()
    return body_bytes(content)


class SandboxAsyncTransport(AsyncHttpTransport):  # type: ignore[type-arg]
    """An azure-core AsyncHttpTransport that serves SDK requests from a Sandbox, in-process.
    `sleep_scale` multiplies the pipeline's sleeps (retry back-off), as `SandboxTransport`'s."""

    def __init__(self, sandbox: Sandbox, *, sleep_scale: float = 1.0) -> None:
        self._sandbox = sandbox
        self._sleep_scale = sleep_scale
        self._threads: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        """Start the threads the emulator answers in."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="sandbox-aio")

    async def close(self) -> None:
        """Stop them."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    async def __aenter__(self) -> SandboxAsyncTransport:
        await self.open()
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()

    async def sleep(self, duration: float) -> None:
        """Sleep, scaled."""
        await asyncio.sleep(duration * self._sleep_scale)

    async def send(self, request: Any, **kwargs: Any) -> AsyncHttpResponseImpl:
        """Answer `request` from the sandbox."""
        await self.open()
        headers = {k: v if isinstance(v, str) else v.decode() for k, v in request.headers.items()}
        wire = Request.from_url(request.method, request.url, headers, _request_body(request))
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._threads, self._sandbox.handle, wire)
        except HostNotFoundError as err:
            raise ServiceRequestError(str(err), error=err) from err
        except SimulatedTimeoutError as err:
            raise ServiceResponseTimeoutError(str(err), error=err) from err
        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = ""
        response_headers = case_insensitive_dict(answer.headers)
        response_headers["Content-Length"] = str(len(answer.body))
        return AsyncHttpResponseImpl(
            request=request,
            internal_response=_Answered(answer),
            status_code=answer.status,
            reason=reason,
            content_type=response_headers.get("Content-Type"),
            headers=response_headers,
            stream_download_generator=_whole_body(answer.body),
        )


class ForwardingAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
    """azure-core's aiohttp transport, sending `https://{azure host}/path` to `python -m sandbox`."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        kwargs.setdefault("use_env_settings", False)
        super().__init__(**kwargs)
        self._base = base_url.rstrip("/")

    async def send(self, request: Any, **kwargs: Any) -> Any:
        """Send a copy of `request` to the server (retries resend the original)."""
        copied = copy.copy(request)
        copied.url, host = forwarded(self._base, request.url)
        copied.headers = case_insensitive_dict(request.headers)
        copied.headers["Host"] = copied.headers["X-Forwarded-Host"] = host
        return await super().send(copied, **kwargs)
