"""A small fault-injecting HTTP proxy in front of Azurite, for Table Storage faults.

It reads one request at a time from the client, decides by a seeded draw what happens to it and
relays it to Azurite on a fresh connection:

- `reset before`: the connection is closed before the request reaches Azurite (nothing lands);
- `reset after`: the request reaches Azurite and is applied, the answer is dropped and the
  connection closed (the write landed, the client never hears);
- `503`: answered `503 ServerBusy` without reaching Azurite;
- `delay`: held a few milliseconds (real time) each way, then relayed.

`ProxyFaults.script` queues faults for the next requests on one partition (and HTTP method), ahead
of the seeded draw, for tests that lose one particular answer. `ProxyFaults.counts` says how many
of each happened, so a run can show its faults were real.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from azure.data.tables import TableServiceClient

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME

__all__ = ["ProxyFaults", "TableProxy", "service_through"]

_BUSY_BODY = b'{"odata.error":{"code":"ServerBusy","message":{"value":"The server is busy."}}}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"x-ms-error-code: ServerBusy\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


@dataclass
class ProxyFaults:
    """Fractions of requests that get each fault (the rest are relayed as they are)."""

    reset_before: float = 0.0
    reset_after: float = 0.0
    busy: float = 0.0
    delay: float = 0.0
    seed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    scripted: list[tuple[str, str, str]] = field(default_factory=list)  # (method, partition, fault)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def script(self, method: str, partition: str, fault: str, *, times: int = 1) -> None:
        """The next `times` requests with `method` on rows of `partition` (a PartitionKey or its
        start) get `fault`."""
        with self._lock:
            self.scripted.extend([(method, partition, fault)] * times)

    def draw(self, request: bytes = b"") -> str | None:
        with self._lock:
            for index, (method, partition, fault) in enumerate(self.scripted):
                if request.startswith(f"{method} ".encode()) and _on(request, partition):
                    del self.scripted[index]
                    self.counts[fault] += 1
                    return fault
            roll = self._random.random()
            for kind, rate in (
                ("reset before", self.reset_before),
                ("reset after", self.reset_after),
                ("503", self.busy),
                ("delay", self.delay),
            ):
                if roll < rate:
                    self.counts[kind] += 1
                    return kind
                roll -= rate
            self.counts["relayed"] += 1
            return None


class TableProxy:
    """Listens on 127.0.0.1 (a free port) and relays to 127.0.0.1:`upstream_port`."""

    def __init__(self, upstream_port: int, faults: ProxyFaults) -> None:
        self.faults = faults
        self._upstream = upstream_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._closed = False
        self.trace: list[tuple[str, str | None]] = []  # (request line, fault) in arrival order
        threading.Thread(target=self._accept, daemon=True).start()

    def endpoint(self, account: str) -> str:
        return f"http://127.0.0.1:{self.port}/{account}"

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            reader = client.makefile("rb")
            while (request := _read_request(reader)) is not None:
                fault = self.faults.draw(request)
                self.trace.append((request.split(b"\r\n", 1)[0].decode(), fault))
                if fault == "reset before":
                    return
                if fault == "503":
                    client.sendall(BUSY)
                    continue
                if fault == "delay":
                    time.sleep(0.02)
                answer = self._relay(request)
                if fault == "reset after":
                    return
                client.sendall(answer)
                if b"\r\nconnection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                    return

    def _relay(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self._upstream)) as upstream:
            upstream.sendall(request)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _on(request: bytes, partition: str) -> bool:
    """Whether `request` reads or writes a row of a partition whose key starts with `partition`
    (in its URL or its JSON body)."""
    needles = (f"PartitionKey='{partition}", f"PartitionKey=%27{partition}")
    head, _, body = request.partition(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0].decode()
    return any(n in line for n in needles) or f'"PartitionKey": "{partition}'.encode() in body


def service_through(proxy: TableProxy) -> TableServiceClient:
    """A table client with the retries and timeouts `tables_service` gives the product (three
    retries, 20 s), through the proxy, with the SDK's back-off shortened so a fault-heavy run
    stays fast."""
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"TableEndpoint={proxy.endpoint(ACCOUNT_NAME)};"
    )
    return TableServiceClient.from_connection_string(
        connection,
        retry_total=3,
        retry_backoff_factor=0.001,
        connection_timeout=20,
        read_timeout=20,
    )


def _read_request(reader: BinaryIO) -> bytes | None:
    """One HTTP/1.1 request (head and Content-Length body), rewritten to `Connection: close` so
    Azurite ends its answer by closing; None at the end of the client's connection."""
    lines: list[bytes] = []
    length = 0
    while True:
        line = reader.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key in (b"connection", b"keep-alive"):
            continue
        lines.append(line)
    body = reader.read(length) if length else b""
    return b"".join(lines) + b"Connection: close\r\n\r\n" + body
