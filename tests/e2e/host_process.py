"""Run `python -m devhost` as a subprocess and talk to it over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS = REPO_ROOT / "tests" / "events"
# Settings the product reads; cleared so the developer's own environment cannot leak in.
_PRODUCT_SETTINGS = json.loads((REPO_ROOT / "local.settings.example.json").read_text())["Values"]
# No proxies: a developer's HTTP_PROXY must not intercept requests to localhost.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_CLEARED = {*_PRODUCT_SETTINGS, "STORAGE_CONNECTION", "PORT", "AZURE_CLIENT_ID", "SAMPLE_SCHEDULE"}


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def host_env(**values: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    env.update(values)
    return env


class HostProcess:
    """One devhost subprocess; its combined output goes to a log file for failure messages."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--port", str(self.port), *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"devhost exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if self.request("GET", "/admin/host/status").status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"devhost was not ready within {timeout} s:\n{self.output()}")

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = self.base + path  # always http://127.0.0.1
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
        try:
            with _OPENER.open(request, timeout=10) as reply:
                return Response(reply.status, _lower(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, _lower(error.headers.items()), error.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def run_to_exit(
    args: list[str], env: dict[str, str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run devhost expecting it to stop by itself (a start-up failure)."""
    return subprocess.run(
        [sys.executable, "-m", "devhost", "--port", str(free_port()), *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


DEMO_SETTINGS = REPO_ROOT / "local.settings.example.json"


@contextmanager
def demo_host(log_dir: Path, *extra: str, **env: str) -> Iterator[HostProcess]:
    """The real app under the local host with the example settings (embedded demo sandbox,
    Azurite started by the host) and `env` overriding app settings, ready to serve; stopped
    afterwards."""
    process = HostProcess(
        ["--settings", str(DEMO_SETTINGS), "--no-timers", *extra],
        host_env(**env),
        log_dir / "host.log",
    )
    try:
        process.wait_ready(timeout=60)
        yield process
    finally:
        process.stop()
