"""The table service factory, lazy table creation and the SDK-to-cachekeeper error mapping.

`azure.data.tables` and `azure.core` are imported inside functions only: importing this package at
indexing time must not load an SDK (the cold-start budget in docs/performance.md).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.domain.time_budgets import CALL_BUDGET, CONNECT_TIMEOUT, READ_TIMEOUT, RETRY_TOTAL
from shared.errors import (
    CachekeeperError,
    ConcurrencyError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.exceptions import HttpResponseError
    from azure.data.tables import TableClient, TableServiceClient

__all__ = ["LazyTable", "sdk_errors", "tables_service"]

# Azurite's well-known development account. Microsoft publishes this key and only the emulator
# accepts it; it lets `UseDevelopmentStorage=true` (which the SDK does not parse) work locally.
_DEV_ACCOUNT = "devstoreaccount1"
_DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_DEV_CONNECTION = (
    f"DefaultEndpointsProtocol=http;AccountName={_DEV_ACCOUNT};AccountKey={_DEV_KEY};"
    f"TableEndpoint=http://127.0.0.1:10002/{_DEV_ACCOUNT};"
)
_SETTING = "STORAGE_CONNECTION"
_BY_STATUS: dict[int, tuple[type[CachekeeperError], str]] = {
    404: (NotFoundError, "not found"),
    408: (UpstreamTimeoutError, "table storage timed out"),
    409: (ConflictError, "conflict"),
    412: (ConcurrencyError, "the row changed since it was read"),
}


def tables_service(
    connection: str,
    *,
    credential: TokenCredential | None = None,
    retry_total: int = RETRY_TOTAL,
    **options: Any,
) -> TableServiceClient:
    """A TableServiceClient from a connection string, or a table endpoint URL plus a credential;
    `options` go to the SDK client as they are (azure-core's public options, e.g. `transport`)."""
    from azure.data.tables import TableServiceClient

    # A few retries only: a worker stuck in long SDK back-off is worse than Event Grid redelivery.
    # Per-attempt timeouts and the whole call's bound: shared/domain/time_budgets.py.
    options = {
        "retry_total": retry_total,
        "connection_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "timeout": int(CALL_BUDGET.total_seconds()),
        **options,
    }
    text = connection.strip()
    if text.replace(" ", "").lower() == "usedevelopmentstorage=true":
        text = _DEV_CONNECTION
    if "=" in text:
        try:
            return TableServiceClient.from_connection_string(text, **options)
        except ValueError:
            # The SDK's message could quote the string (and its key): say what is wrong instead.
            raise ConfigurationError(
                _SETTING,
                "the storage connection string is malformed",
                "copy it again from the storage account, or use the table endpoint URL",
            ) from None
    if text.startswith(("https://", "http://")):
        if credential is None:
            raise ConfigurationError(
                _SETTING,
                "a table endpoint URL needs a token credential (the app's managed identity)",
                "pass the credential, or set a connection string instead",
            )
        return TableServiceClient(endpoint=text, credential=credential, **options)
    raise ConfigurationError(
        _SETTING,
        "it is neither a connection string nor a table endpoint URL",
        "set it to https://<account>.table.core.windows.net or a connection string",
    )


class LazyTable:
    """A table client whose table is created on first use, once per instance."""

    def __init__(self, service: TableServiceClient, name: str) -> None:
        self._service = service
        self.name = name
        self._lock = threading.Lock()
        self._client: TableClient | None = None

    def client(self) -> TableClient:
        """The table client; creates the table when it does not exist yet."""
        if self._client is not None:
            return self._client
        with self._lock:
            if self._client is None:
                from azure.core.exceptions import ResourceExistsError

                client = self._service.get_table_client(self.name)
                # Another instance may create it at the same moment: that is fine.
                with (
                    sdk_errors(f"create table {self.name!r}"),
                    contextlib.suppress(ResourceExistsError),
                ):
                    client.create_table()
                self._client = client
            return self._client


@contextlib.contextmanager
def sdk_errors(what: str) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block into cachekeeper errors about `what`."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    # Messages are built from status, error code and request id only: the SDK's own text can
    # quote URLs (with SAS tokens) and is chained `from None` so it never reaches a log.
    try:
        yield
    except CachekeeperError:
        raise
    except ClientAuthenticationError as exc:
        raise _refused_credentials(exc, what) from None
    except HttpResponseError as exc:
        raise _from_status(exc, what) from None
    except (ServiceRequestTimeoutError, ServiceResponseTimeoutError):
        raise UpstreamTimeoutError(f"table storage did not answer in time: {what}") from None
    except (ServiceRequestError, ServiceResponseError):
        raise UpstreamUnavailableError(f"table storage is unreachable: {what}") from None


def _from_status(exc: HttpResponseError, what: str) -> CachekeeperError:
    status = exc.status_code or 0
    details = _details(exc)
    if status == 429 or (status == 503 and _error_code(exc) == "ServerBusy"):
        return ThrottledError(
            f"table storage is throttling ({details}): {what}", retry_after=_retry_after(exc)
        )
    if status in (401, 403):
        return _refused_credentials(exc, what)
    if status in _BY_STATUS:
        kind, problem = _BY_STATUS[status]
        return kind(f"{problem} ({details}): {what}")
    if status >= 500:
        return UpstreamUnavailableError(f"table storage failed ({details}): {what}")
    error = PermanentError(f"table storage refused the request ({details}): {what}")
    error.code = "StorageRequestRefused"
    return error


def _refused_credentials(exc: HttpResponseError, what: str) -> ConfigurationError:
    return ConfigurationError(
        _SETTING,
        f"table storage refused the app's credentials ({_details(exc)}) while trying to {what}",
        "grant the app's identity 'Storage Table Data Contributor' or fix the connection string",
    )


def _details(exc: HttpResponseError) -> str:
    parts = [f"HTTP {exc.status_code}" if exc.status_code else "no HTTP response"]
    code = _error_code(exc)
    if code:
        parts.append(code)
    request_id = _headers(exc).get("x-ms-request-id")
    if request_id:
        parts.append(f"request id {request_id}")
    return ", ".join(parts)


def _error_code(exc: HttpResponseError) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is None:
        return None
    return str(getattr(code, "value", code))


def _retry_after(exc: HttpResponseError) -> float | None:
    value = _headers(exc).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: rare from storage, and the caller backs off anyway
        return None


def _headers(exc: HttpResponseError) -> Any:
    # Typed loosely by azure-core; every transport's response has case-insensitive headers.
    return getattr(exc.response, "headers", None) or {}
