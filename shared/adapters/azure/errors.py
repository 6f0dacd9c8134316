"""Turn Azure SDK exceptions into our error tree, so nothing above the adapters sees the SDK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from json import JSONDecodeError

from shared.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    PolicyViolationError,
    ThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

__all__ = ["translate_errors"]


def _retry_after(headers: object) -> float | None:
    try:
        value = headers.get("Retry-After")  # type: ignore[attr-defined]
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Run an SDK call; re-raise its failure as one of ours, naming `what` was attempted."""
    from azure.core.exceptions import (
        DecodeError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        yield
    except (DecodeError, JSONDecodeError) as exc:  # a garbled answer (a proxy's error page, a
        # cut body): try again. The generated clients decode some pages themselves (JSONDecodeError)
        raise UpstreamUnavailableError(f"{what}: unreadable answer ({exc})") from exc
    except ResourceNotFoundError as exc:
        raise NotFoundError(f"{what}: not found") from exc
    except ResourceExistsError as exc:
        raise ConflictError(f"{what}: {_message(exc)}") from exc
    except HttpResponseError as exc:
        status = exc.status_code or 0
        message = f"{what}: {_message(exc)}"
        if status == 429:
            headers = getattr(exc.response, "headers", None)
            raise ThrottledError(message, retry_after=_retry_after(headers)) from exc
        if status >= 500:
            raise UpstreamUnavailableError(message) from exc
        if status in (401, 403):
            raise AccessDeniedError(message) from exc
        if status == 404:
            raise NotFoundError(message) from exc
        if status in (409, 412):
            raise ConflictError(message) from exc
        raise PolicyViolationError(message) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise UpstreamTimeoutError(f"{what}: no answer ({type(exc).__name__})") from exc


def _message(exc: Exception) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    text = getattr(error, "message", None) or getattr(exc, "reason", None) or type(exc).__name__
    return f"{code}: {text}" if code else str(text)
