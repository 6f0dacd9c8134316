"""Pull failures, from a `cachekeeper.PullFailed` CloudEvent or an Azure Monitor log-search alert.

Both map to one `PullFailure` signal: registry, repository, tag, HTTP status, time, and who pulled
when the input says so (the event's `identity` object; the alert's `Identity` dimension, ACR's
logged identity, read by `puller_from_logged_identity`). The alert is
the common alert schema of a log-search alert on ContainerRegistryRepositoryEvents split by
`Repository` (search results are not embedded in Log Alerts V2; dimensions are). Resolved alerts
carry no failures. The alert's status dimension is `Status` (older rules: `ResultDescription`);
what ACR logs there is not documented (docs/operations.md), so a value that is no HTTP status,
such as the query's "unknown", is a failure of unknown status rather than a malformed alert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath
from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope, parse_time, readable
from shared.signals.registry import REGISTRY_TYPE

if TYPE_CHECKING:
    from shared.domain.pullers import Puller

__all__ = [
    "PULL_FAILED",
    "PullFailure",
    "PullFailureAlert",
    "dump_failure",
    "load_failure",
    "parse_pull_failed",
    "parse_pull_failure_alert",
]

PULL_FAILED = "cachekeeper.PullFailed"


@dataclass(frozen=True, slots=True)
class PullFailure:
    """A failed pull of `repository` (a path inside the registry) with the HTTP status seen."""

    registry: ResourceId
    repository: TargetPath
    status: int | None
    tag: str | None = None
    time: datetime | None = None
    puller: Puller | None = None
    origin: str | None = None  # the signal it came with (an alert's id); None: its own signal


@dataclass(frozen=True, slots=True)
class PullFailureAlert:
    alert_id: str
    fired: bool
    failures: tuple[PullFailure, ...]


def _lower_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in data.items()}


def _registry(value: Any) -> ResourceId:
    if not isinstance(value, str):
        raise InvalidEventError("registry must be the registry's resource id")
    try:
        registry = ResourceId.parse(value)
    except InvalidInputError as exc:
        raise InvalidEventError(f"registry: {exc}") from exc
    if not registry.is_type(REGISTRY_TYPE):
        raise InvalidEventError(f"registry {value!r} is not a container registry resource id")
    return registry


def _repository(value: Any) -> TargetPath:
    if not isinstance(value, str):
        raise InvalidEventError("repository must be a string")
    try:
        return TargetPath.parse(value.strip().lower(), allow_wildcard=False)
    except InvalidInputError as exc:
        raise InvalidEventError(f"repository: {exc}") from exc


def _status(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidEventError("status must be an HTTP status code")
    text = str(value).strip()
    digits = text[:3]
    if not digits.isdigit() or not 100 <= int(digits) <= 599:
        raise InvalidEventError(f"status {text[:20]!r} is not an HTTP status code")
    return int(digits)


def _logged_status(value: Any) -> int | None:
    """The status an alert dimension carries: its leading HTTP code, or None when it has none."""
    try:
        return _status(value)
    except InvalidEventError:
        return None


def _tag(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 128:
        raise InvalidEventError("tag must be a string of at most 128 characters")
    return value.strip() or None


def _identity(value: Any) -> Puller | None:
    from shared.domain.pullers import Puller, PullerKind  # loaded on first use, not at indexing

    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidEventError('identity must be an object {"kind": ..., "id": ...}')
    data = _lower_keys(value)
    try:
        kind = PullerKind(str(data.get("kind", "")).strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in PullerKind)
        raise InvalidEventError(f"identity.kind must be one of {kinds}") from None
    ident = data.get("id")
    if not isinstance(ident, str) or not ident.strip() or len(ident) > 256:
        raise InvalidEventError("identity.id must be a string of 1 to 256 characters")
    text = ident.strip()
    return Puller(kind, text.lower() if kind is PullerKind.ENTRA else text)


def parse_pull_failed(envelope: Envelope) -> PullFailure:
    """The PullFailed signal of a `cachekeeper.PullFailed` event (see docs/events/)."""
    if envelope.type != PULL_FAILED:
        raise InvalidEventError(f"event type {envelope.type!r} is not {PULL_FAILED}")
    data = _lower_keys(envelope.data)
    return PullFailure(
        registry=_registry(data.get("registry")),
        repository=_repository(data.get("repository")),
        status=_status(data.get("status")),
        tag=_tag(data.get("tag")),
        time=parse_time(data.get("time")) or envelope.time,
        puller=_identity(data.get("identity")),
    )


def _dimensions(condition: Mapping[str, Any]) -> dict[str, Any]:
    dimensions = condition.get("dimensions") or []
    if not isinstance(dimensions, Sequence) or isinstance(dimensions, str):
        raise InvalidEventError("alert dimensions must be a list")
    found: dict[str, Any] = {}
    for item in dimensions:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            found[item["name"].strip().lower()] = item.get("value")
    return found


def parse_pull_failure_alert(payload: Any) -> PullFailureAlert:
    """Pull failures in a common-alert-schema payload (one per `Repository` dimension value)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), Mapping):
        raise InvalidEventError("not an Azure Monitor common alert schema payload (no data)")
    readable(payload)
    if payload.get("schemaId") != "azureMonitorCommonAlertSchema":
        raise InvalidEventError("schemaId must be azureMonitorCommonAlertSchema")
    essentials = payload["data"].get("essentials")
    context = payload["data"].get("alertContext") or {}
    if not isinstance(essentials, Mapping) or not isinstance(context, Mapping):
        raise InvalidEventError("alert has no essentials")
    condition = str(essentials.get("monitorCondition", "")).strip().lower()
    if condition not in ("fired", "resolved"):
        raise InvalidEventError("monitorCondition must be Fired or Resolved")
    alert_id = str(essentials.get("alertId") or "")[:512]
    if not alert_id:
        raise InvalidEventError("alert has no alertId")
    if condition == "resolved":
        return PullFailureAlert(alert_id, False, ())
    listed = essentials.get("alertTargetIDs")
    targets = [t for t in listed if isinstance(t, str)] if isinstance(listed, list) else []
    registries = [r for r in (_maybe_registry(t) for t in targets) if r is not None]
    fired_at = parse_time(essentials.get("firedDateTime"))
    criteria = (
        (context.get("condition") or {}).get("allOf")
        if isinstance(context.get("condition"), Mapping)
        else None
    )
    failures: list[PullFailure] = []
    for criterion in (
        criteria if isinstance(criteria, Sequence) and not isinstance(criteria, str) else []
    ):
        if not isinstance(criterion, Mapping):
            continue
        dims = _dimensions(criterion)
        if "repository" not in dims:
            continue  # not split by Repository: nothing to diagnose
        registry = _maybe_registry(dims.get("_resourceid") or dims.get("resourceid")) or (
            registries[0] if len(registries) == 1 else None
        )
        if registry is None:
            raise InvalidEventError("cannot tell which registry the alert is about")
        from shared.domain.pullers import puller_from_logged_identity  # on first use

        failures.append(
            PullFailure(
                registry,
                _repository(dims["repository"]),
                _logged_status(dims.get("status", dims.get("resultdescription"))),
                _tag(dims.get("tag")),
                fired_at,
                puller_from_logged_identity(dims.get("identity"), registry.name),
                origin=f"alert:{alert_id}",
            )
        )
    return PullFailureAlert(alert_id, True, tuple(failures))


def _maybe_registry(value: Any) -> ResourceId | None:
    if not isinstance(value, str):
        return None
    try:
        rid = ResourceId.parse(value)
    except InvalidInputError:
        return None
    return rid if rid.is_type(REGISTRY_TYPE) else None


def dump_failure(failure: PullFailure) -> str:
    """The failure as JSON, to be kept in the journal while it waits (`load_failure` reads it)."""
    return json.dumps(
        {
            "registry": str(failure.registry),
            "repository": str(failure.repository),
            "status": failure.status,
            "tag": failure.tag,
            "time": failure.time.isoformat() if failure.time else None,
            "identity": failure.puller.to_dict() if failure.puller else None,
            "origin": failure.origin,
        },
        sort_keys=True,
    )


def load_failure(text: str) -> PullFailure:
    """A failure `dump_failure` wrote; InvalidEventError when the text is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidEventError("a kept pull failure is not JSON") from exc
    if not isinstance(data, Mapping):
        raise InvalidEventError("a kept pull failure is not an object")
    origin = data.get("origin")
    return PullFailure(
        registry=_registry(data.get("registry")),
        repository=_repository(data.get("repository")),
        status=_status(data.get("status")),
        tag=_tag(data.get("tag")),
        time=parse_time(data.get("time")),
        puller=_identity(data.get("identity")),
        origin=origin if isinstance(origin, str) else None,
    )
