"""OpenAPI pieces more than one route uses: parameters, request schemas, components."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ANY_OBJECT",
    "DRY_RUN",
    "IF_MATCH",
    "POLICY",
    "REGISTRY",
    "REPOSITORY_REQUEST",
    "SCHEMAS",
    "SCOPE_PROPERTIES",
    "path_param",
]

ANY_OBJECT: dict[str, Any] = {"type": "object"}
DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
           "description": "plan only, change nothing"}  # fmt: skip
REGISTRY = {"name": "registry", "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1}, "description": "managed registry name"}  # fmt: skip
IF_MATCH = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
            "description": "ETag the row was read with, or *"}  # fmt: skip
POLICY = {"$ref": "#/components/schemas/Policy"}
SCOPE_PROPERTIES: dict[str, Any] = {
    "scope": {"type": "string", "enum": ["all", "registry", "credential-set", "repository"]},
    "registry": {"type": "string", "description": "managed registry name"},
    "credentialSet": {"type": "string", "description": "credential set name (with registry)"},
    "repository": {"type": "string", "description": "repository path in the registry"},
}
REPOSITORY_REQUEST = {
    "type": "object",
    "properties": {"upstream": {"type": "string"}, "target": {"type": "string"},
                   "registry": {"type": "string"}},
    "additionalProperties": False,
}  # fmt: skip


def path_param(name: str) -> dict[str, Any]:
    """A required string segment of the route template."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


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
