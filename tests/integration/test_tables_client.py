"""The table service factory, lazy imports, and SDK errors mapped to cachekeeper's error tree.

Failures come from a small local HTTP server that answers the real SDK client the way Table
Storage does when it throttles, fails or stalls.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from azure.core.credentials import AccessToken

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from shared.adapters.tables import TableJournal, TablePolicyStore, tables_service
from shared.errors import (
    CachekeeperError,
    ConfigurationError,
    PermanentError,
    ThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

ROOT = Path(__file__).resolve().parents[2]


class StubTableService(BaseHTTPRequestHandler):
    """Answers every request with the configured status, headers and OData error body."""

    status: ClassVar[int] = 500
    headers_out: ClassVar[dict[str, str]] = {}
    code: ClassVar[str] = "InternalError"
    delay: ClassVar[float] = 0.0

    def _answer(self) -> None:
        time.sleep(self.delay)
        body = json.dumps(
            {"odata.error": {"code": self.code, "message": {"lang": "en-US", "value": "nope"}}}
        ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json;odata=minimalmetadata")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-ms-request-id", "req-123")
        for name, value in self.headers_out.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def do_MERGE(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubTableService)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def answer(
    status: int, code: str, *, headers: dict[str, str] | None = None, delay: float = 0.0
) -> None:
    StubTableService.status, StubTableService.code = status, code
    StubTableService.headers_out, StubTableService.delay = headers or {}, delay


def connection(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME};"
    )


def failure(port: int, *, timeout: float = 5.0) -> CachekeeperError:
    """The error reading the journal raises (its first call also creates the table)."""
    journal = TableJournal(
        tables_service(
            connection(port), retry_total=0, connection_timeout=timeout, read_timeout=timeout
        ),
        "journal",
    )
    with pytest.raises(CachekeeperError) as caught:
        journal.outcomes()
    error = caught.value
    assert ACCOUNT_KEY not in str(error) and ACCOUNT_KEY[:20] not in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # no SDK text chained into logs
    return error


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (503, "ServiceUnavailable", UpstreamUnavailableError),
        (500, "InternalError", UpstreamUnavailableError),
        (403, "AuthorizationPermissionMismatch", ConfigurationError),
        (400, "InvalidInput", PermanentError),
    ],
)
def test_http_failures_map_to_the_error_tree(
    stub: ThreadingHTTPServer, status: int, code: str, expected: type[CachekeeperError]
) -> None:
    answer(status, code)
    error = failure(stub.server_address[1])
    assert type(error) is expected or (
        expected is PermanentError and isinstance(error, PermanentError)
    )
    assert (
        f"HTTP {status}" in error.message and code in error.message and "req-123" in error.message
    )


def test_throttling_keeps_the_retry_after(stub: ThreadingHTTPServer) -> None:
    answer(429, "TooManyRequests", headers={"Retry-After": "7"})
    error = failure(stub.server_address[1])
    assert isinstance(error, ThrottledError) and error.retry_after == 7.0 and error.transient
    answer(503, "ServerBusy")  # Table Storage's own way of saying "slow down"
    assert isinstance(failure(stub.server_address[1]), ThrottledError)


def test_a_stalled_service_is_a_timeout(stub: ThreadingHTTPServer) -> None:
    answer(200, "", delay=1.5)
    assert isinstance(failure(stub.server_address[1], timeout=0.3), UpstreamTimeoutError)


def test_an_unreachable_service_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        error = failure(port)
    assert isinstance(error, UpstreamUnavailableError) and error.transient


def test_policy_store_errors_are_mapped_too(stub: ThreadingHTTPServer) -> None:
    answer(500, "InternalError")
    store = TablePolicyStore(
        tables_service(connection(stub.server_address[1]), retry_total=0), "policies"
    )
    with pytest.raises(UpstreamUnavailableError):
        store.list_policies()


def test_the_factory_accepts_connection_strings_and_endpoints() -> None:
    assert tables_service(connection(10002)).url.startswith(
        "http://127.0.0.1:10002/devstoreaccount1"
    )
    assert tables_service("UseDevelopmentStorage=true").url.startswith(
        "http://127.0.0.1:10002/devstoreaccount1"
    )

    class StaticToken:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("token", int(time.time()) + 3600)

    service = tables_service("https://acct.table.core.windows.net", credential=StaticToken())
    assert service.account_name == "acct"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://acct.table.core.windows.net", "needs a token credential"),
        ("acct.table.core.windows.net", "neither a connection string nor"),
        (f"AccountKey={ACCOUNT_KEY};Nonsense=1", "malformed"),
    ],
)
def test_bad_connections_are_configuration_errors_without_secrets(value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        tables_service(value)
    assert caught.value.setting == "STORAGE_CONNECTION"
    assert ACCOUNT_KEY not in str(caught.value) and caught.value.__cause__ is None


def test_importing_the_package_loads_no_sdk() -> None:
    probe = (
        "import json, sys; import shared.adapters.tables; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('azure'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
