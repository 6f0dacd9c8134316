"""The HTTP transport under every SDK client: azure-core's pipeline over one urllib3 pool.

azure-core's default transport sends through `requests`, whose per-call bookkeeping (merging
session settings, cookie jars, environment lookups) costs about three times the HTTP exchange
itself on a small ARM response, and an audit lists thousands of pages (figure 5 in
`docs/performance.md`). `PooledTransport` keeps the SDK's whole pipeline (auth, retries,
logging, tracing: the policies are azure-core's) and replaces only the last step, the socket
exchange, with urllib3, which `requests` itself runs on.

When the environment configures a proxy or a CA bundle for `requests` (`HTTPS_PROXY`,
`REQUESTS_CA_BUNDLE`, ...), `default_transport()` returns None and the SDK's own transport
honours it exactly as it would without us.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import urllib3
from azure.core.exceptions import (
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline._tools import is_rest
from azure.core.pipeline.transport import HttpResponse as LegacyHttpResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

if TYPE_CHECKING:
    from azure.core.pipeline import Pipeline

__all__ = ["PooledTransport", "default_transport", "environment_configures_http"]

log = logging.getLogger(__name__)

# azure-core's ConnectionConfiguration defaults (seconds, bytes).
DEFAULT_CONNECTION_TIMEOUT = 300.0
DEFAULT_READ_TIMEOUT = 300.0
BLOCK_SIZE = 4096
# Connections kept per host: the audit runs up to 48 calls at once against management.azure.com
# (services/audit.py); beyond this, a connection is opened for the call and closed after it.
POOL_CONNECTIONS_PER_HOST = 64
POOL_HOSTS = 32

# What `requests` reads from the environment (trust_env): with any of these set, the SDK's own
# transport is used so that proxies and CA bundles keep working exactly as documented for it.
_REQUESTS_ENVIRONMENT = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def environment_configures_http(environ: Mapping[str, str] | None = None) -> bool:
    """True when a proxy or CA bundle is configured for `requests` in the environment."""
    env = os.environ if environ is None else environ
    return any(env.get(name) or env.get(name.lower()) for name in _REQUESTS_ENVIRONMENT)


def default_transport(environ: Mapping[str, str] | None = None) -> PooledTransport | None:
    """The transport AzureClients gives every SDK client: pooled, unless the environment
    configures proxies or CA bundles (then None: the SDK's default transport honours them)."""
    if environment_configures_http(environ):
        log.info("proxy or CA bundle configured in the environment: using the SDK's transport")
        return None
    return PooledTransport()


def _default_pool() -> urllib3.PoolManager:
    try:  # the CA bundle `requests` verifies against, so both transports trust the same roots
        import certifi

        ca_certs: str | None = certifi.where()
    except ImportError:  # pragma: no cover - certifi comes with requests, an azure-core dependency
        ca_certs = None
    return urllib3.PoolManager(
        num_pools=POOL_HOSTS,
        maxsize=POOL_CONNECTIONS_PER_HOST,
        cert_reqs="CERT_REQUIRED",
        ca_certs=ca_certs,
    )


class PooledTransport(HttpTransport[Any, Any]):
    """An azure-core `HttpTransport` over a urllib3 `PoolManager` (thread-safe, keep-alive).

    `pool` may be any PoolManager (tests and the benchmark pass one that forwards to the
    sandbox server). Retries and redirects are azure-core's business, never urllib3's.
    """

    def __init__(
        self,
        pool: urllib3.PoolManager | None = None,
        *,
        connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        self._pool = pool if pool is not None else _default_pool()
        self._connection_timeout = connection_timeout
        self._read_timeout = read_timeout
        self._block_size = block_size

    def __enter__(self) -> PooledTransport:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def open(self) -> None:
        """Nothing to open: the pool connects on demand."""

    def close(self) -> None:
        """Close idle connections (the pool stays usable: clients share one transport)."""
        self._pool.clear()

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send an azure-core request (`azure.core.rest` or legacy) and return its response."""
        stream = bool(kwargs.pop("stream", False))
        timeout = urllib3.Timeout(
            connect=kwargs.pop("connection_timeout", self._connection_timeout),
            read=kwargs.pop("read_timeout", self._read_timeout),
        )
        if kwargs.pop("connection_verify", True) is not True or kwargs.pop("connection_cert", None):
            raise ValueError("PooledTransport verifies TLS with its pool's settings only")
        if kwargs.pop("proxies", None):
            raise ValueError("PooledTransport does not proxy; use the SDK's default transport")
        if getattr(request, "files", None):
            raise ValueError("PooledTransport does not send multipart files")
        body = request.data
        if isinstance(body, Mapping):  # a form (the ACR token exchange): encoded as requests does
            body = urlencode(body, doseq=True)
        try:
            raw = self._pool.urlopen(
                request.method,
                request.url,
                body=body,
                headers=dict(request.headers),
                redirect=False,
                retries=False,
                timeout=timeout,
                preload_content=not stream,
            )
        except (NewConnectionError, ProtocolError) as err:
            raise _request_or_response_error(err) from err
        except ConnectTimeoutError as err:
            raise ServiceRequestTimeoutError(err, error=err) from err
        except ReadTimeoutError as err:
            raise ServiceResponseTimeoutError(err, error=err) from err
        except DecodeError as err:
            raise HttpResponseError(err, error=err) from err
        except urllib3.exceptions.HTTPError as err:  # TLS, proxy, location errors: not sent
            raise ServiceRequestError(err, error=err) from err
        if is_rest(request):
            return PooledResponse(
                request=request,
                internal_response=raw,
                block_size=self._block_size,
                loaded=not stream,
            )
        return _LegacyPooledResponse(request, raw, self._block_size)


def _request_or_response_error(err: Exception) -> Exception:
    if isinstance(err, NewConnectionError):
        return ServiceRequestError(err, error=err)
    return ServiceResponseError(err, error=err)  # the connection broke after the request went out


def _headers(raw: urllib3.BaseHTTPResponse) -> Any:
    # dict() joins repeated headers with ", " as requests does; lookups are case-insensitive
    return case_insensitive_dict(dict(raw.headers))


class _StreamDownload:
    """Chunks of a streamed body, with urllib3's errors mapped to azure-core's."""

    def __init__(self, pipeline: Pipeline[Any, Any] | None, response: Any, **kwargs: Any) -> None:
        decompress = kwargs.pop("decompress", True)
        if kwargs:
            raise TypeError(f"unexpected keyword argument: {next(iter(kwargs))}")
        self.pipeline = pipeline
        self.response = response
        self._raw: urllib3.BaseHTTPResponse = response.internal_response
        self._chunks = self._raw.stream(response.block_size, decode_content=decompress)
        self.content_length = int(response.headers.get("Content-Length", 0))

    def __len__(self) -> int:
        return self.content_length

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            chunk: bytes = next(self._chunks)
        except StopIteration:
            self._raw.release_conn()
            raise
        except ReadTimeoutError as err:
            self._raw.close()
            raise ServiceResponseTimeoutError(err, error=err) from err
        except ProtocolError as err:
            self._raw.close()
            raise ServiceResponseError(err, error=err) from err
        except DecodeError as err:
            self._raw.close()
            raise HttpResponseError(err, error=err) from err
        return chunk


class PooledResponse(HttpResponseImpl):
    """An `azure.core.rest.HttpResponse` over a urllib3 response."""

    def __init__(
        self,
        *,
        request: Any,
        internal_response: urllib3.BaseHTTPResponse,
        block_size: int,
        loaded: bool,
    ) -> None:
        headers = _headers(internal_response)
        super().__init__(
            request=request,
            internal_response=internal_response,
            block_size=block_size,
            status_code=internal_response.status,
            reason=internal_response.reason or "",
            headers=headers,
            content_type=headers.get("Content-Type"),
            stream_download_generator=_StreamDownload,
        )
        if loaded:  # read in full by urllib3, its connection already back in the pool
            self._content = internal_response.data
            self._is_stream_consumed = True
            self._is_closed = True


class _LegacyPooledResponse(LegacyHttpResponse):
    """An `azure.core.pipeline.transport.HttpResponse` over a urllib3 response."""

    def __init__(self, request: Any, raw: urllib3.BaseHTTPResponse, block_size: int) -> None:
        super().__init__(request, raw, block_size=block_size)
        self.status_code = raw.status
        self.headers = _headers(raw)
        self.reason = raw.reason or ""
        self.content_type = self.headers.get("Content-Type")
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            data: bytes = self.internal_response.data or b""
            self._body = data
        return self._body

    def stream_download(self, pipeline: Pipeline[Any, Any], **kwargs: Any) -> Iterator[bytes]:
        return _StreamDownload(pipeline, self, **kwargs)
