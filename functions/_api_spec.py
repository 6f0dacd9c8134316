"""The HTTP API described once: one entry per (function, method), from which openapi.json is built.

`tests/contract/test_openapi_contract.py` checks this table against `app.get_functions()`, so a
route added without a description (or described but gone) fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["OPERATIONS", "SCHEMAS", "Operation"]

_OBJ: dict[str, Any] = {"type": "object"}
_JSON = "application/json"
_DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
            "description": "plan only, change nothing"}  # fmt: skip
_REGISTRY = {"name": "registry", "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1}, "description": "managed registry name"}  # fmt: skip
_IF_MATCH = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
             "description": "ETag the row was read with, or *"}  # fmt: skip
_SCOPE_PROPS: dict[str, Any] = {
    "scope": {"type": "string", "enum": ["all", "registry", "credential-set", "repository"]},
    "registry": {"type": "string", "description": "managed registry name"},
    "credentialSet": {"type": "string", "description": "credential set name (with registry)"},
    "repository": {"type": "string", "description": "repository path in the registry"},
}
_REPOSITORY_REQUEST = {
    "type": "object",
    "properties": {"upstream": {"type": "string"}, "target": {"type": "string"},
                   "registry": {"type": "string"}},
    "additionalProperties": False,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of one HTTP-triggered function."""

    function: str
    route: str
    method: str
    summary: str
    parameters: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None  # JSON schema of the request body
    body_required: bool = False
    responses: dict[str, str] = field(default_factory=lambda: {"200": "the result"})
    media: str = _JSON  # of the success response
    anonymous: bool = False


OPERATIONS: tuple[Operation, ...] = (
    Operation("health", "health", "GET", "Is the app up, in which mode, managing what",
              anonymous=True),
    Operation("run_audit", "audit", "POST", "Audit every managed registry, or one, now",
              (_DRY_RUN,), {"type": "object", "properties": {"registry": {"type": "string"}},
                            "additionalProperties": False},
              responses={"200": "the audit report", "404": "registry not managed"}),
    Operation("latest_audit", "audit/latest", "GET", "The latest audit report",
              responses={"200": "the report", "404": "no audit ran yet"}),
    Operation("audit_report", "audit/{id}", "GET", "One audit report",
              ({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},),
              responses={"200": "the report", "404": "no such report"}),
    Operation("journal", "journal", "GET", "Outcomes and findings, newest first",
              ({"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}})),
    Operation("registry_status", "registries/{registry}/status", "GET",
              "Rules, credential sets with health and secret expiry, last actions", (_REGISTRY,),
              responses={"200": "the status", "404": "registry not managed"}),
    Operation("plan", "plan", "POST", "What cachekeeper would change in a scope (dry run)",
              body={"type": "object", "properties": _SCOPE_PROPS, "additionalProperties": False},
              responses={"200": "the plan with its id", "404": "registry or credential set not found"}),
    Operation("apply", "apply", "POST", "Apply a plan by id if state has not changed since",
              body={"type": "object", "required": ["planId"], "additionalProperties": False,
                    "properties": {**_SCOPE_PROPS, "planId": {"type": "string"}}},
              body_required=True,
              responses={"200": "what was applied", "409": "stale plan; the body carries the new plan"}),
    Operation("metrics", "metrics", "GET", "Counters: events, actions applied, open findings"),
    Operation("dashboard", "dashboard", "GET", "The cache-health dashboard (HTML)",
              responses={"200": "the page"}, media="text/html"),
    Operation("openapi", "openapi.json", "GET", "This document"),
    Operation("sync_credential_set", "credential-sets/{registry}/{name}/sync", "POST",
              "Move a credential set to the newest valid secret versions",
              (_REGISTRY, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
               _DRY_RUN), responses={"200": "the reaction", "404": "not found"}),
    Operation("credential_set_access", "credential-sets/{registry}/{name}/access", "GET",
              "Can the credential set's identity read its secrets",
              (_REGISTRY, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}),
              responses={"200": "the diagnosis", "404": "not found"}),
    Operation("pull_failure_alert", "alerts/pull-failures", "POST",
              "Azure Monitor alert (common alert schema) about failing pulls", body=_OBJ,
              body_required=True, responses={"202": "the reactions", "400": "not an alert"}),
    Operation("list_policies", "policies", "GET", "Every policy row with its ETag"),
    Operation("policy", "policies/{id}", "GET", "One policy row",
              ({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},),
              responses={"200": "the row", "404": "no such row"}),
    Operation("policy", "policies/{id}", "PUT", "Create or replace a policy row",
              ({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}, _IF_MATCH),
              {"$ref": "#/components/schemas/Policy"}, True,
              responses={"200": "the stored row", "400": "invalid row", "412": "stale ETag"}),
    Operation("policy", "policies/{id}", "DELETE", "Delete a policy row",
              ({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}, _IF_MATCH),
              responses={"204": "deleted", "404": "no such row", "412": "stale ETag"}),
    Operation("import_policies", "policies/import", "POST", "Replace the whole policy table",
              (_DRY_RUN,), {"type": "object", "properties": {"policies": {
                  "type": "array", "items": {"$ref": "#/components/schemas/Policy"}}}}, True,
              responses={"200": "what changed", "400": "invalid document"}),
    Operation("export_policies", "policies/export", "GET", "The whole policy table",
              ({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "yaml"]}},)),
    Operation("test_policies", "policies/test", "POST", "Which row decides a request, and what it would do",
              body=_REPOSITORY_REQUEST, body_required=True),
    Operation("request_repository", "repositories", "POST",
              "Request a cache rule for an upstream repository (policy table decides)",
              (_DRY_RUN,), _REPOSITORY_REQUEST, True,
              responses={"200": "planned or already served", "201": "rule created",
                         "422": "refused by policy or ACR"}),
)  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
        },
    },
    "Policy": {
        "type": "object",
        "required": ["id", "upstream", "action"],
        "properties": {
            "id": {"type": "string"},
            "upstream": {"type": "string", "example": "docker.io/library/*"},
            "action": {"type": "string", "enum": ["allow", "deny"]},
            "registry": {"type": "string"},
            "targetTemplate": {"type": "string", "example": "dockerhub/library/{path}"},
            "ruleKind": {"type": "string", "enum": ["static", "wildcard"]},
            "credentialSet": {"type": "string"},
            "priority": {"type": "integer"},
            "enabled": {"type": "boolean"},
            "description": {"type": "string"},
        },
    },
}
