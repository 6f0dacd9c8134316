"""JSON schemas of the success responses, as `GET /api/openapi.json` serves them; the contract
test `tests/contract/test_openapi_responses.py` validates real answers of every route against
them, so they cannot drift from what the routes return."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACCESS",
    "ALERT_REACTIONS",
    "APPLIED",
    "APP_STATUS",
    "EXPORT",
    "HEALTH",
    "HISTORY",
    "IMPORTED",
    "JOURNAL",
    "METRICS",
    "OPENAPI",
    "PLAN_VIEW",
    "POLICY_LIST",
    "PULL_POLICY",
    "PULL_POLICY_LIST",
    "REACTION",
    "REGISTRY_STATUS",
    "REPORT",
    "REPOSITORY",
    "STORED_POLICY",
    "TESTED",
]

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_OBJ: dict[str, Any] = {"type": "object"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these required (and optional) properties; others are allowed."""
    return {"type": "object", "required": sorted(required),
            "properties": required | (optional or {})}  # fmt: skip


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_VERSION_MOVE = obj({"from": _NSTR, "to": _NSTR})
HISTORY = obj({
    "days": _INT, "since": _STR, "until": _STR, "outcomesRead": _INT, "truncated": _BOOL,
    "audits": array(obj({"id": _STR, "finishedAt": _STR, "open": _INT,
                         "resolved": {"type": "integer", "nullable": True},
                         "bySeverity": {"type": "object", "additionalProperties": _INT}})),
    "actionsPerDay": array(obj({"day": _STR,
                                "byKind": {"type": "object", "additionalProperties": _INT}})),
    "rotations": array(obj({"credentialSet": _STR, "rotations": array(obj({
        "at": _STR, "signalId": _STR, "action": _STR,
        "username": _VERSION_MOVE, "password": _VERSION_MOVE}))})),
})  # fmt: skip


_STRINGS = array(_STR)
_COUNTS = {"type": "object", "additionalProperties": _INT}
SEVERITY = {"type": "string", "enum": ["critical", "error", "warning", "info"]}
FINDING = obj(
    {"kind": _STR, "severity": SEVERITY, "resource": _STR, "message": _STR},
    {"fix": _NSTR, "evidence": _OBJ, "signalId": _STR, "at": _STR},
)  # fmt: skip  (the journal's carry both)
OUTCOME = obj({"signalId": _STR, "resource": _STR, "status": _STR, "reason": _STR, "at": _STR,
               "action": _NSTR, "before": _OBJ, "after": _OBJ, "health": _NSTR})  # fmt: skip
ACTION = obj({"kind": _STR, "resource": _STR, "reason": _STR, "changes": _OBJ})
_OUTCOMES, _FINDINGS, _ACTIONS = array(OUTCOME), array(FINDING), array(ACTION)
PLAN = obj({"scope": _STR, "actions": _ACTIONS, "findings": _FINDINGS}, {"id": _STR})
PLAN_VIEW = obj({"planId": _STR, "summary": _STR, "actions": _ACTIONS, "findings": _FINDINGS,
                 "scope": obj({"kind": _STR}, {"registry": _NSTR, "credentialSet": _NSTR,
                                               "repository": _NSTR})})  # fmt: skip
HEALTH = obj({"status": _STR, "version": _STR})
APP_STATUS = obj({
    "status": _STR, "version": _STR, "mode": _STR, "remediationMode": _STR,
    "managedRegistries": _STRINGS, "warnings": _STRINGS,
    "authentication": obj({"adminAppRole": _STR, "appServiceAuthentication": _BOOL}),
})  # fmt: skip
OPENAPI = obj({"openapi": _STR, "info": _OBJ, "paths": _OBJ, "components": _OBJ})
REPORT = obj({
    "id": _STR, "startedAt": _STR, "finishedAt": _STR, "registries": _STRINGS, "counts": _COUNTS,
    "findings": _FINDINGS, "findingsTruncated": _BOOL, "plan": PLAN, "outcomes": _OUTCOMES,
})  # fmt: skip
JOURNAL = obj({"since": _NSTR, "limit": _INT, "outcomes": _OUTCOMES,
               "findings": array(obj(FINDING["properties"] | {"signalId": _STR, "at": _STR}))})  # fmt: skip
_SECRET = obj({"uri": _STR, "vault": _STR, "name": _STR, "state": _STR},
              {"versionInUse": _NSTR, "newestValidVersion": _NSTR, "expires": _NSTR,
               "daysLeft": {"type": "number", "nullable": True}, "pinned": _BOOL, "behind": _BOOL})  # fmt: skip
REGISTRY_STATUS = obj({
    "id": _STR, "registry": _STR, "observedAt": _STR, "ruleCount": _INT, "expiryHorizonDays": _INT,
    "rules": array(obj({"name": _STR, "source": _STR, "target": _STR},
                       {"credentialSet": _NSTR, "provisioningState": _NSTR})),
    "credentialSets": array(obj({
        "name": _STR, "loginServer": _STR, "usedBy": _STRINGS,
        "health": obj({"status": _STR}),
        "secrets": obj({"username": _SECRET, "password": _SECRET}),
    })),
    "lastActions": _OUTCOMES, "pendingVerifications": array(_OBJ),
})  # fmt: skip
METRICS = obj({"events": array(_OBJ), "actionsApplied": array(_OBJ),
               "latestAudit": {"type": "object", "nullable": True,
                               "properties": {"id": _STR, "finishedAt": _STR}}},
              {"openFindings": _COUNTS})  # fmt: skip
REACTION = obj({"status": _STR, "reason": _STR, "outcomes": _OUTCOMES, "plan": PLAN})
ACCESS = obj(REACTION["properties"] | {"principalId": _NSTR, "health": _NSTR})
APPLIED = obj({"signalId": _STR, "status": _STR, "outcomes": _OUTCOMES, "plan": PLAN_VIEW})
REPOSITORY = obj(REACTION["properties"], {
    "decision": obj({"allowed": _BOOL, "reason": _STR}, {"policy": _NSTR}),
    "rule": obj({"name": _STR, "sourceRepository": _STR, "targetRepository": _STR},
                {"credentialSet": _NSTR, "kind": _STR}),
})  # fmt: skip
ALERT_REACTIONS = obj({"reactions": array(REACTION)})
_POLICY_ROW = {"upstream": _STR, "action": _STR, "id": _STR}
STORED_POLICY = obj(_POLICY_ROW | {"etag": _STR}, {"warnings": _STRINGS, "changedAt": _NSTR,
                                                   "changedBy": _NSTR})  # fmt: skip
POLICY_LIST = obj({"policies": array(STORED_POLICY)})
EXPORT = obj({"version": _INT, "policies": array(obj(_POLICY_ROW))})
IMPORTED = obj({"dryRun": _BOOL, "count": _INT, "created": _STRINGS, "updated": _STRINGS,
                "deleted": _STRINGS, "warnings": _STRINGS})  # fmt: skip
TESTED = obj({"results": array(_OBJ)})
PULL_POLICY = obj({"id": _STR, "principalId": _STR, "enabled": _BOOL}, {"registry": _NSTR})
PULL_POLICY_LIST = obj({"pullPolicies": array(PULL_POLICY)})
DECLARED_SET = obj({"name": _STR, "loginServer": _STR, "username": _STR, "password": _STR,
                    "registries": _STRINGS, "absent": _BOOL}, {"etag": _STR})  # fmt: skip
DECLARED_SETS = obj({"credentialSets": array(DECLARED_SET)}, {"version": _INT})
DECLARED_IMPORT = obj({"dryRun": _BOOL, "written": _STRINGS, "deleted": _STRINGS})
