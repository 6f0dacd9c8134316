"""Options and the per-request view of the sandbox handed to the service handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.state import State

ARM_HOST = "management.azure.com"
KEYVAULT_SUFFIX = ".vault.azure.net"


@dataclass
class SandboxOptions:
    """Tunable behaviour; defaults favour fast, faithful tests."""

    page_size: int = 20  # ARM list page size (cacheRules, credentialSets, registries, ...)
    kv_page_size: int = 25  # Key Vault default maxresults
    retry_after: int = 0  # Retry-After seconds on LRO responses
    lro_in_progress_polls: int = 0  # status polls answered InProgress before an LRO finishes
    max_cache_rules: int = 1000  # per registry, as documented for ACR
    async_patch: bool = False  # PATCH answers 201 + Azure-AsyncOperation instead of 200
    # refuse rules without credentials for the overview's other auth-only upstreams (dhi.io,
    # *.pkg.dev, registry.redhat.io) as for Docker Hub; whether ACR does is not documented
    enforce_auth_only_upstreams: bool = True
    # refuse a wildcard over existing repositories through a Failed LRO (PUT 201, then the
    # operation fails) instead of a 409 on the PUT; which one ACR does is not documented
    prefix_refusal_in_lro: bool = False
    kv_versions_order: str = "created"  # list-versions order: created | newest-first | version-id
    # credentialHealth is evaluated when the credential set is written and then every this many
    # seconds of the sandbox clock; a GET in between reports the last evaluation (0: every GET)
    health_refresh_seconds: float = 0.0
    # a role assignment (or its removal) takes effect for access evaluation this many seconds of
    # the sandbox clock after it was made; listings show it at once (0: immediately)
    rbac_delay_seconds: float = 0.0
    # ACR pulls. An Entra identity with rights on nothing: does `/oauth2/exchange` already refuse
    # it (401), or only the manifest request? Not documented; canipull reads an exchange failure
    # as "no pull permission"
    exchange_requires_role: bool = False
    # the status of a manifest request whose caller is authenticated but lacks pull on the
    # repository: 401 insufficient_scope (third-party reports) or 403 DENIED; not documented
    rbac_denied_status: int = 401  # Entra identities
    token_denied_status: int = (
        403  # scope-map tokens ("requested access to the resource is denied")
    )
    # Event Grid topics: accept `aeg-sas-key` / `aeg-sas-token` (a topic with local auth on); off as
    # cachekeeper's Bicep deploys its topics (disableLocalAuth), so only an Entra token is taken
    eventgrid_local_auth: bool = False
    # Microsoft Graph: may the app read service principals (an Application.Read.All grant)?
    # Off: 403 Authorization_RequestDenied (sandbox/graph.py)
    directory_readable: bool = True
    # Request limits (sandbox/throttling.py): off unless a test, a scenario's `throttling:` or
    # SANDBOX_THROTTLING turns them on. ARM: token buckets per subscription, principal and
    # operation type (size, refill per second of the sandbox clock), as documented since 2024
    throttling: bool = False
    arm_read_bucket: int = 250
    arm_read_refill: float = 25.0
    arm_write_bucket: int = 200
    arm_write_refill: float = 10.0
    arm_delete_bucket: int = 200
    arm_delete_refill: float = 10.0
    # Key Vault: transactions per vault in any 10 seconds (creating a secret: the smaller limit)
    kv_transactions_per_10s: int = 4000
    kv_create_secrets_per_10s: int = 300
    # whether Key Vault's 429 carries Retry-After (None: no header, as a field report shows;
    # a number: the seconds until the window has room, at least that many); not documented
    kv_throttle_retry_after: int | None = None


# Scenario `timing:` keys and `/_sandbox/options` fields -> option names
TIMING_FIELDS = {
    "healthRefreshSeconds": "health_refresh_seconds",
    "rbacDelaySeconds": "rbac_delay_seconds",
}
# Scenario `throttling:` keys and `/_sandbox/options` fields -> option names
THROTTLING_FIELDS = {
    "enabled": "throttling",
    "armReadBucket": "arm_read_bucket",
    "armReadRefill": "arm_read_refill",
    "armWriteBucket": "arm_write_bucket",
    "armWriteRefill": "arm_write_refill",
    "armDeleteBucket": "arm_delete_bucket",
    "armDeleteRefill": "arm_delete_refill",
    "kvTransactionsPer10s": "kv_transactions_per_10s",
    "kvCreateSecretsPer10s": "kv_create_secrets_per_10s",
    "kvThrottleRetryAfter": "kv_throttle_retry_after",
}
# Environment variables the process-wide sandbox (local host, `python -m sandbox`) reads
TIMING_ENV = {
    "SANDBOX_HEALTH_REFRESH_SECONDS": "health_refresh_seconds",
    "SANDBOX_RBAC_DELAY_SECONDS": "rbac_delay_seconds",
}


def timing_options(values: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, float]:
    """The timing options named in `values` (by the keys of `names`), as non-negative seconds;
    ValueError naming the field when one is not."""
    found: dict[str, float] = {}
    for key, option in names.items():
        if key not in values or values[key] in (None, ""):
            continue
        raw = values[key]
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            seconds = -1.0
        if isinstance(raw, bool) or not 0 <= seconds <= 86_400:
            raise ValueError(f"{key} must be a number of seconds from 0 to 86400, not {raw!r}")
        found[option] = seconds
    return found


def throttling_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """The throttling options named in `values` (keys of THROTTLING_FIELDS), checked; ValueError
    naming the field when one is wrong."""
    found: dict[str, Any] = {}
    for key, value in values.items():
        option = THROTTLING_FIELDS.get(key)
        if option is None:
            raise ValueError(
                f"unknown throttling field {key!r}; expected {sorted(THROTTLING_FIELDS)}"
            )
        if option == "throttling":
            if not isinstance(value, bool):
                raise ValueError(f"throttling.enabled must be true or false, not {value!r}")
            found[option] = value
            continue
        if option == "kv_throttle_retry_after" and value is None:
            found[option] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:
            raise ValueError(f"throttling.{key} must be a positive number, not {value!r}")
        found[option] = value if option.endswith("_refill") or value is None else int(value)
    return found


@dataclass
class Env:
    """What a handler needs: the state (lock already held), the time, the options."""

    state: State
    now: datetime
    options: SandboxOptions = field(default_factory=SandboxOptions)


def format_time(when: datetime) -> str:
    """ARM timestamp: ISO 8601 with offset, like `2022-11-07T18:20:33.837496+00:00`."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def unix(when: datetime | None) -> int | None:
    """Key Vault timestamp: integer Unix seconds."""
    return None if when is None else int(when.timestamp())
