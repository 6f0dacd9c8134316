"""One error tree for the whole product.

Every error says whether retrying can help. Event triggers use that split: permanent errors are
recorded and acknowledged (Event Grid must not retry them forever); transient ones are raised so
Event Grid redelivers the event.

    CachekeeperError                      .transient, .code, .http_status
    ├── PermanentError                    retrying cannot help
    │   ├── ConfigurationError            a setting is missing or invalid; names the setting and the fix
    │   ├── InvalidInputError             malformed id, URI, name, event or request (also a ValueError)
    │   │   ├── InvalidResourceIdError
    │   │   ├── InvalidSecretUriError
    │   │   ├── InvalidNameError
    │   │   ├── InvalidRepositoryError
    │   │   ├── InvalidPolicyError
    │   │   │   ├── UnsupportedDocumentVersionError  policy document of no or an unknown version
    │   │   │   └── EmptyImportError      an import that empties the table, unasked (422)
    │   │   ├── InvalidEventError
    │   │   ├── InvalidDocumentError      a JSON/YAML document that cannot be read within limits (400)
    │   │   ├── PayloadTooLargeError      request body over the limit (413)
    │   │   └── UnsupportedMediaTypeError request body not JSON (415)
    │   ├── PolicyViolationError          policy or ACR rules refuse the change; .reason says why
    │   ├── OutOfScopeError               the registry or vault is not managed by this app
    │   ├── AccessDeniedError             Azure refused the app's own identity (403)
    │   ├── RoleDeniedError               the caller lacks the app role a change needs (403)
    │   ├── NotFoundError                 the resource does not exist
    │   └── ConflictError                 the resource exists or conflicts with another
    └── TransientError                    retrying later can succeed
        ├── ThrottledError                429; .retry_after seconds when the service said
        │   └── ThrottleBudgetError       waiting the throttling out would pass the time budget
        ├── UpstreamUnavailableError      5xx from ARM or Key Vault
        ├── UpstreamTimeoutError          no answer in time
        └── ConcurrencyError              someone else changed the record first (ETag mismatch)
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "CachekeeperError",
    "ConcurrencyError",
    "ConfigurationError",
    "ConflictError",
    "EmptyImportError",
    "InvalidDocumentError",
    "InvalidEventError",
    "InvalidInputError",
    "InvalidNameError",
    "InvalidPolicyError",
    "InvalidRepositoryError",
    "InvalidResourceIdError",
    "InvalidSecretUriError",
    "NotFoundError",
    "OutOfScopeError",
    "PayloadTooLargeError",
    "PermanentError",
    "PolicyViolationError",
    "RoleDeniedError",
    "ThrottleBudgetError",
    "ThrottledError",
    "TransientError",
    "UnsupportedDocumentVersionError",
    "UnsupportedMediaTypeError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
]


class CachekeeperError(Exception):
    """Base of every error cachekeeper raises on purpose."""

    transient: bool = False
    code: str = "Error"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentError(CachekeeperError):
    """Retrying cannot help: record the failure and acknowledge the event."""

    transient = False


class TransientError(CachekeeperError):
    """Retrying later can succeed: raise so the delivery is retried."""

    transient = True
    code = "Transient"
    http_status = 503


class ConfigurationError(PermanentError):
    """A setting is missing or invalid; the message names the setting and the fix."""

    code = "ConfigurationError"

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"setting {setting}: {problem}. Fix: {fix}")
        self.setting = setting
        self.problem = problem
        self.fix = fix


class InvalidInputError(PermanentError, ValueError):
    """Input that cannot be understood; nothing was changed."""

    code = "InvalidInput"
    http_status = 400


class InvalidResourceIdError(InvalidInputError):
    code = "InvalidResourceId"


class InvalidSecretUriError(InvalidInputError):
    code = "InvalidSecretUri"


class InvalidNameError(InvalidInputError):
    code = "InvalidName"


class InvalidRepositoryError(InvalidInputError):
    code = "InvalidRepository"


class InvalidPolicyError(InvalidInputError):
    code = "InvalidPolicy"


class UnsupportedDocumentVersionError(InvalidPolicyError):
    """A policy document's `version` is missing or not one this build reads; nothing was read."""

    code = "UnsupportedDocumentVersion"

    def __init__(self, message: str, *, supported: tuple[int, ...]) -> None:
        super().__init__(message)
        self.supported = supported


class EmptyImportError(InvalidPolicyError):
    """An import would replace the policy rows with nothing and the caller did not ask for it."""

    code = "EmptyImport"
    http_status = 422


class InvalidEventError(InvalidInputError):
    code = "InvalidEvent"


class InvalidDocumentError(InvalidInputError):
    """A JSON or YAML document that is malformed or beyond the reading limits (nesting, size,
    integer digits, lone surrogates): a 400, never a 415 (the content type was right)."""

    code = "InvalidDocument"


class PayloadTooLargeError(InvalidInputError):
    code = "PayloadTooLarge"
    http_status = 413


class UnsupportedMediaTypeError(InvalidInputError):
    code = "UnsupportedMediaType"
    http_status = 415


class PolicyViolationError(PermanentError):
    """The policy table or ACR's own rules refuse the change; `reason` says what to do."""

    code = "PolicyViolation"
    http_status = 422

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class OutOfScopeError(PermanentError):
    """The registry or vault is not one this app manages."""

    code = "OutOfScope"
    http_status = 403


class AccessDeniedError(PermanentError):
    """Azure refused the app's identity; the fix is a role assignment for the app, not a retry."""

    code = "AccessDenied"
    http_status = 403


class RoleDeniedError(PermanentError):
    """Entra ID fronts the app and the caller may not make this change: its client principal
    lacks the admin app role, or cannot be read."""

    code = "Forbidden"
    http_status = 403


class NotFoundError(PermanentError):
    code = "NotFound"
    http_status = 404


class ConflictError(PermanentError):
    code = "Conflict"
    http_status = 409


class ThrottledError(TransientError):
    code = "Throttled"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ThrottleBudgetError(ThrottledError):
    """Waiting out Azure's throttling would run past the time budget of the call or of the
    invocation (shared/wait_deadline.py): nothing more is sent."""

    code = "ThrottleBudgetExceeded"


class UpstreamUnavailableError(TransientError):
    code = "UpstreamUnavailable"


class UpstreamTimeoutError(TransientError):
    code = "UpstreamTimeout"
    http_status = 504


class ConcurrencyError(TransientError):
    code = "ConcurrencyConflict"
    http_status = 409
