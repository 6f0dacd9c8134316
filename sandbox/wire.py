"""Plain request/response values exchanged between the transports and the emulated services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.errors import ServiceError, bad_request


@dataclass(frozen=True)
class Request:
    """One HTTP request as the services see it (header names lower-cased)."""

    method: str
    host: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def from_url(
        cls, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Request:
        """Build a request from a full URL."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return cls(method.upper(), host, normalize_path(parts.path), query, lowered, body)

    @property
    def url(self) -> str:
        """The request's https URL (without the query)."""
        return f"https://{self.host}{self.path}"

    def json(self) -> Any:
        """The body parsed as JSON (400 if it is not JSON)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise bad_request(
                "InvalidRequestContent", f"The request content is not JSON: {err}"
            ) from err

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (400 otherwise)."""
        data = self.json()
        if not isinstance(data, dict):
            raise bad_request("InvalidRequestContent", "The request content must be a JSON object.")
        return data


@dataclass
class Response:
    """One HTTP response produced by a service."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    secret_value_served: bool = False  # set by the Key Vault get-secret handler only

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body) if self.body else None


def normalize_path(path: str) -> str:
    """Collapse duplicate slashes and drop a trailing one (the SDKs join `/{scope}` loosely)."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    body = json.dumps(payload).encode()
    merged = {"Content-Type": "application/json; charset=utf-8"}
    merged.update(headers or {})
    return Response(status, merged, body)


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    """A response without a body."""
    return Response(status, dict(headers or {}), b"")


def error_response(err: ServiceError) -> Response:
    """The response for a ServiceError."""
    return json_response(err.status, err.body(), err.headers)
