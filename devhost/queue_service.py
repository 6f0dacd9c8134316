"""The few Queue service operations the local host needs, on Azurite, over azure-core's public
pipeline (`PipelineClient`, `HttpRequest`): create a queue, put, get, update and delete messages.

The Functions host uses the Azure.Storage.Queues SDK for these; the Python one
(`azure-storage-queue`) is not among this project's dependencies, so the local host speaks the
Queue service REST API (version 2021-12-02) itself, signed with Shared Key as the service
documents. Development host only: the app never imports this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from xml.sax.saxutils import escape

from azure.core import PipelineClient
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest, HttpResponse

__all__ = ["QueueError", "QueueMessageRecord", "QueueService", "parse_connection_string"]

_VERSION = "2021-12-02"


class QueueError(RuntimeError):
    """The Queue service answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


@dataclass(frozen=True, slots=True)
class QueueMessageRecord:
    """One received message, its text as stored (the host decodes base64)."""

    id: str
    pop_receipt: str
    dequeue_count: int
    text: str
    insertion_time: datetime | None
    expiration_time: datetime | None
    time_next_visible: datetime | None


def parse_connection_string(text: str) -> tuple[str, str, str]:
    """(account name, account key, queue endpoint) of a storage connection string."""
    parts = dict(p.split("=", 1) for p in text.strip().rstrip(";").split(";") if "=" in p)
    name, key = parts.get("AccountName", ""), parts.get("AccountKey", "")
    endpoint = parts.get("QueueEndpoint", "")
    if not (name and key and endpoint):
        raise ValueError("the connection string needs AccountName, AccountKey and QueueEndpoint")
    return name, key, endpoint.rstrip("/")


def _when(text: str | None) -> datetime | None:
    return parsedate_to_datetime(text) if text else None


class QueueService:
    """Shared Key-signed calls to one storage account's Queue service."""

    def __init__(self, account: str, key: str, endpoint: str) -> None:
        self._account, self._key, self._endpoint = account, base64.b64decode(key), endpoint
        self._client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            endpoint, policies=[RetryPolicy(retry_total=2)]
        )

    @classmethod
    def from_connection_string(cls, text: str) -> QueueService:
        return cls(*parse_connection_string(text))

    def _sign(self, request: HttpRequest) -> None:
        headers = request.headers
        headers["x-ms-date"] = format_datetime(datetime.now(UTC), usegmt=True)
        headers["x-ms-version"] = _VERSION
        length = headers.get("Content-Length", "")
        canonical_headers = "".join(
            f"{k.lower()}:{v.strip()}\n"
            for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
            if k.lower().startswith("x-ms-")
        )
        url = urlsplit(request.url)
        resource = f"/{self._account}{url.path}"
        for name, value in sorted((k.lower(), v) for k, v in parse_qsl(url.query)):
            resource += f"\n{name}:{value}"
        fields = [request.method, "", "", "" if length == "0" else length, "",
                  headers.get("Content-Type", ""), "", "", "", "", "", ""]  # fmt: skip
        text = "\n".join(fields) + "\n" + canonical_headers + resource
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        headers["Authorization"] = f"SharedKey {self._account}:{base64.b64encode(digest).decode()}"

    def _call(
        self, method: str, path: str, *, body: str | None = None, **query: Any
    ) -> HttpResponse:
        params = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())
        url = f"{self._endpoint}/{path}" + (f"?{params}" if params else "")
        data = body.encode() if body is not None else b""
        request = HttpRequest(method, url, content=data)
        request.headers["Content-Length"] = str(len(data))
        if body is not None:
            request.headers["Content-Type"] = "application/xml"
        self._sign(request)
        response = self._client.send_request(request)
        if response.status_code >= 400:
            code = response.headers.get("x-ms-error-code", "")
            raise QueueError(response.status_code, code, response.text()[:300])
        return response

    def create_queue(self, queue: str) -> None:
        """Create the queue; an existing one is fine."""
        try:
            self._call("PUT", queue)
        except QueueError as exc:
            if exc.status != 409:
                raise

    def exists(self, queue: str) -> bool:
        try:
            self._call("GET", queue, comp="metadata")
        except QueueError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def put(self, queue: str, text: str) -> None:
        body = f"<QueueMessage><MessageText>{escape(text)}</MessageText></QueueMessage>"
        self._call("POST", f"{queue}/messages", body=body)

    def get(self, queue: str, *, count: int, visibility_seconds: int) -> list[QueueMessageRecord]:
        response = self._call(
            "GET", f"{queue}/messages", numofmessages=count, visibilitytimeout=visibility_seconds
        )
        root = ET.fromstring(response.text())  # noqa: S314 - the local Azurite's answer
        return [
            QueueMessageRecord(
                id=m.findtext("MessageId", ""),
                pop_receipt=m.findtext("PopReceipt", ""),
                dequeue_count=int(m.findtext("DequeueCount", "0")),
                text=m.findtext("MessageText", ""),
                insertion_time=_when(m.findtext("InsertionTime")),
                expiration_time=_when(m.findtext("ExpirationTime")),
                time_next_visible=_when(m.findtext("TimeNextVisible")),
            )
            for m in root.findall("QueueMessage")
        ]

    def delete(self, queue: str, message: QueueMessageRecord) -> None:
        self._call("DELETE", f"{queue}/messages/{message.id}", popreceipt=message.pop_receipt)

    def release(self, queue: str, message: QueueMessageRecord, *, visibility_seconds: int) -> None:
        """Make the message visible again after `visibility_seconds` (Update Message)."""
        self._call(
            "PUT", f"{queue}/messages/{message.id}",
            popreceipt=message.pop_receipt, visibilitytimeout=visibility_seconds,
        )  # fmt: skip

    def peek_count(self, queue: str) -> int:
        """How many messages the queue holds (Get Queue Metadata's approximate count)."""
        response = self._call("GET", queue, comp="metadata")
        return int(response.headers.get("x-ms-approximate-messages-count", "0"))
