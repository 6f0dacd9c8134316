"""Errors the emulated services answer with, as ARM / Key Vault error bodies."""

from __future__ import annotations


class ServiceError(Exception):
    """An HTTP error response: status plus the `{"error": {"code", "message"}}` body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner_code: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner_code = inner_code  # Key Vault's `innerError.code` (e.g. SecretDisabled)

    def body(self) -> dict[str, object]:
        """The ARM / Key Vault error envelope."""
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.inner_code:
            error["innerError"] = {"code": self.inner_code}
        return {"error": error}


def bad_request(code: str, message: str) -> ServiceError:
    """400 with an ARM error body."""
    return ServiceError(400, code, message)


def not_found(code: str, message: str) -> ServiceError:
    """404 with an ARM error body."""
    return ServiceError(404, code, message)


def conflict(code: str, message: str) -> ServiceError:
    """409 with an ARM error body."""
    return ServiceError(409, code, message)


class HostNotFoundError(Exception):
    """No emulated service answers for this host (the transports turn it into a DNS failure)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"Failed to resolve '{host}' (no such host in the sandbox)")
        self.host = host


class SimulatedTimeoutError(Exception):
    """An injected timeout: the transports raise the read-timeout their HTTP library would."""
