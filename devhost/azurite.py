"""Start Azurite's table or queue service for the test session and the local run.

The account is Azurite's well-known development account (`devstoreaccount1`); its key is public,
documented by Microsoft and only ever accepted by the emulator.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = [
    "ACCOUNT_KEY",
    "ACCOUNT_NAME",
    "AZURITE_QUEUE",
    "Azurite",
    "AzuriteError",
    "start_azurite",
]

ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_TABLE = REPO_ROOT / "node_modules" / ".bin" / "azurite-table"
AZURITE_QUEUE = REPO_ROOT / "node_modules" / ".bin" / "azurite-queue"
_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 5.0


class AzuriteError(RuntimeError):
    """Azurite is missing, or did not start."""


class Azurite:
    """A running Azurite table service; stop it with `.stop()` or by leaving the `with` block."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        workdir: Path,
        own: bool,
        service: str = "table",
    ):
        self.service = service
        self._process = process
        self.port = port
        self._workdir = workdir
        self._own_workdir = own

    @property
    def table_endpoint(self) -> str:
        """The table endpoint URL, path-style with the account name."""
        return f"http://127.0.0.1:{self.port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        """A connection string for the development account with an explicit TableEndpoint (or
        QueueEndpoint, for the queue service)."""
        endpoint = "QueueEndpoint" if self.service == "queue" else "TableEndpoint"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"{endpoint}={self.table_endpoint};"
        )

    @property
    def pid(self) -> int:
        """The process id of Azurite (the leader of its own process group)."""
        return self._process.pid

    def running(self) -> bool:
        """True while the Azurite process is alive."""
        return self._process.poll() is None

    def stop(self) -> None:
        """Stop Azurite and every process it started; safe to call twice."""
        if self._process.poll() is None:
            _signal_group(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=_STOP_TIMEOUT_SECONDS)
        if self._own_workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_azurite(
    *,
    port: int = 0,
    workdir: Path | None = None,
    executable: Path | None = None,
    service: str = "table",
) -> Azurite:
    """Start Azurite's table (or queue) service on 127.0.0.1 (port 0: a free port) and wait
    until it listens."""
    if executable is None:
        executable = AZURITE_QUEUE if service == "queue" else AZURITE_TABLE
    if not os.access(executable, os.X_OK):
        raise AzuriteError(
            f"Azurite is not installed ({executable} is missing or not executable): "
            "run `make bootstrap`"
        )
    own = workdir is None
    where = Path(tempfile.mkdtemp(prefix="azurite-")) if workdir is None else workdir
    where.mkdir(parents=True, exist_ok=True)
    chosen = port or _free_port()
    # Output goes to a file, not a pipe: nobody reads a pipe while Azurite runs, and a full pipe
    # would block it.
    log_path = where / "azurite.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed argv naming our own node_modules binary
            [
                str(executable),
                f"--{service}Host", "127.0.0.1",
                f"--{service}Port", str(chosen),
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
            ],
            cwd=where,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so stop() also reaches node started by the npm shim.
            start_new_session=True,
        )  # fmt: skip
    azurite = Azurite(process, chosen, where, own, service)
    try:
        _wait_until_listening(azurite, log_path)
    except BaseException:
        azurite.stop()
        raise
    return azurite


def _wait_until_listening(azurite: Azurite, log_path: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not azurite.running():
            output = log_path.read_text(errors="replace").strip()
            raise AzuriteError(f"Azurite exited during start-up: {output or '(no output)'}")
        try:
            with socket.create_connection(("127.0.0.1", azurite.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    output = log_path.read_text(errors="replace").strip()
    raise AzuriteError(
        f"Azurite did not listen on port {azurite.port} within {_START_TIMEOUT_SECONDS:.0f} s: "
        f"{output or '(no output)'}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
