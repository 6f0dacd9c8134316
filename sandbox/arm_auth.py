"""Microsoft.Authorization (2022-04-01): role assignments and role definitions at any scope."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sandbox.access import scope_covers
from sandbox.arm_acr import Handler
from sandbox.env import Env, format_time
from sandbox.errors import ServiceError, bad_request, conflict, not_found
from sandbox.paging import arm_list
from sandbox.state import RoleAssignment, RoleDefinition
from sandbox.wire import Request, Response, empty_response, json_response

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PRINCIPAL_FILTER = re.compile(r"^principalId\s+eq\s+'(?P<id>[^']+)'$", re.I)
_ASSIGNED_TO = re.compile(r"^assignedTo\('(?P<id>[^']+)'\)$", re.I)
_ROLE_NAME_FILTER = re.compile(r"^roleName\s+eq\s+'(?P<v>[^']+)'$", re.I)
_TYPE_FILTER = re.compile(r"^type\s+eq\s+'(?P<v>[^']+)'$", re.I)


def subscription_of(scope: str) -> str | None:
    """The subscription id a scope lies in, if any."""
    parts = scope.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return None


def role_definition_id(guid: str, scope: str) -> str:
    """`/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}`."""
    sub = subscription_of(scope)
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def assignment_json(a: RoleAssignment) -> dict[str, Any]:
    """A role assignment as ARM returns it."""
    scope = a.scope or "/"
    base = "" if scope == "/" else scope
    properties: dict[str, Any] = {
        "roleDefinitionId": role_definition_id(a.role_definition_guid, scope),
        "principalId": a.principal_id,
        "principalType": a.principal_type,
        "scope": scope,
        "condition": a.condition,
        "conditionVersion": a.condition_version,
        "description": a.description,
        "createdOn": format_time(a.created),
        "updatedOn": format_time(a.created),
    }
    return {
        # Absent rather than null: the spec types these as plain strings.
        "properties": {k: v for k, v in properties.items() if v is not None},
        "id": f"{base}/providers/Microsoft.Authorization/roleAssignments/{a.guid}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.guid,
    }


def definition_json(role: RoleDefinition, scope: str) -> dict[str, Any]:
    """A role definition as ARM returns it."""
    return {
        "properties": {
            "roleName": role.role_name,
            "type": role.role_type,
            "description": role.description,
            "assignableScopes": list(role.assignable_scopes),
            "permissions": [
                {
                    "actions": list(p.actions),
                    "notActions": list(p.not_actions),
                    "dataActions": list(p.data_actions),
                    "notDataActions": list(p.not_data_actions),
                }
                for p in role.permissions
            ],
        },
        "id": role_definition_id(role.guid, scope),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": role.guid,
    }


def trailing_guid(role_id: str) -> str:
    """Role definition ids are compared on their trailing GUID."""
    return role_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _scope(p: dict[str, str]) -> str:
    return p["scope"] or "/"


def _assignment_filter(raw: str | None) -> tuple[bool, str | None]:
    """Parse `$filter` into (at-or-above only, principal id). No filter: everything at, above
    and below the scope (cloud-custodian#4403, azure-powershell#10913 observe the rows below)."""
    if not raw:
        return False, None
    at_scope, principal, by_principal_id = False, None, False
    for raw_clause in re.split(r"\s+and\s+", raw.strip(), flags=re.I):
        clause = raw_clause.strip()
        if clause.lower() == "atscope()":
            at_scope = True
        elif m := _PRINCIPAL_FILTER.match(clause) or _ASSIGNED_TO.match(clause):
            principal, by_principal_id = m["id"], m.re is _PRINCIPAL_FILTER
        else:
            raise bad_request("UnsupportedQueryParameter", _unsupported_filter(raw))
    if at_scope and by_principal_id:  # ARM takes atScope() with assignedTo() only
        raise bad_request("UnsupportedQueryParameter", _unsupported_filter(raw))
    return at_scope, principal


def _unsupported_filter(raw: str) -> str:
    """ARM's message for a role-assignment filter it does not take (Azure/azure-rest-api-specs#28255;
    the code is not reported, so `UnsupportedQueryParameter` is the sandbox's)."""
    return (
        f"The filter '{raw}' is not supported. Supported filters are either 'atScope()' or "
        "'principalId eq '{value}'' or assignedTo('{value}')'."
    )


def _listed(
    assignment_scope: str, scope: str, groups: Mapping[str, Iterable[str]], *, below: bool
) -> bool:
    """An assignment at `assignment_scope` is listed at `scope`: at or above it (inherited), or,
    with `below`, under it."""
    return scope_covers(assignment_scope, scope, groups) or (
        below and scope_covers(scope, assignment_scope, groups)
    )


def role_assignments(env: Env, req: Request, p: dict[str, str]) -> Response:
    """List at a scope: atScope() = at or above; no filter or principalId eq = at, above, below."""
    scope = _scope(p)
    at_scope, principal = _assignment_filter(req.query.get("$filter"))
    found = [
        a
        for a in env.state.role_assignments.values()
        if not (principal and a.principal_id.lower() != principal.lower())
        and _listed(a.scope, scope, env.state.management_groups, below=not at_scope)
    ]
    found.sort(key=lambda a: (a.scope.lower(), a.guid))
    return arm_list(env, req, found, lambda chunk: [assignment_json(a) for a in chunk])


def role_assignment(env: Env, req: Request, p: dict[str, str]) -> Response:
    """GET / PUT / DELETE `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`."""
    scope, name = _scope(p), p["name"].lower()
    existing = env.state.role_assignments.get(name)
    same_scope = existing is not None and existing.scope.lower() == scope.lower()
    if req.method == "GET":
        if existing is None or not same_scope:
            raise not_found("RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
        return json_response(200, assignment_json(existing))
    if req.method == "DELETE":
        if existing is None or not same_scope:
            return empty_response(204)
        revoke(env, existing)
        return json_response(200, assignment_json(existing))
    if req.method != "PUT":
        raise ServiceError(405, "MethodNotAllowed", f"{req.method} is not supported here.")
    return _create_assignment(env, req, scope, name)


def _create_assignment(env: Env, req: Request, scope: str, name: str) -> Response:
    if not _GUID.match(name):
        raise bad_request(
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        )
    props = req.json_object().get("properties") or {}
    role_id, principal = props.get("roleDefinitionId"), props.get("principalId")
    if not isinstance(role_id, str) or not isinstance(principal, str):
        raise bad_request("InvalidRequestContent", "roleDefinitionId and principalId are required.")
    guid = trailing_guid(role_id)
    if guid not in env.state.role_definitions:
        raise bad_request(
            "RoleDefinitionDoesNotExist", f"The specified role definition '{guid}' does not exist."
        )
    new = RoleAssignment(
        name,
        scope,
        guid,
        principal,
        str(props.get("principalType") or "User"),
        env.now,
        props.get("condition"),
        props.get("conditionVersion"),
        props.get("description"),
        effective_at=env.now + timedelta(seconds=env.options.rbac_delay_seconds),
    )
    for other in env.state.role_assignments.values():
        same = (
            other.scope.lower() == scope.lower()
            and other.role_definition_guid == guid
            and other.principal_id.lower() == principal.lower()
        )
        if other.guid == name and not same:
            raise conflict(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        if same:
            raise conflict("RoleAssignmentExists", "The role assignment already exists.")
    env.state.role_assignments[name] = new
    return json_response(201, assignment_json(new))


def revoke(env: Env, assignment: RoleAssignment) -> None:
    """Remove an assignment: gone from listings at once, honoured by access evaluation until
    `rbac_delay_seconds` have passed (Azure applies removals with the same delay as grants)."""
    env.state.role_assignments.pop(assignment.guid, None)
    if env.options.rbac_delay_seconds > 0:
        until = env.now + timedelta(seconds=env.options.rbac_delay_seconds)
        env.state.revoked_assignments.append((assignment, until))


def role_definitions(env: Env, req: Request, p: dict[str, str]) -> Response:
    """List role definitions usable at a scope, with `roleName eq` / `type eq` filters."""
    scope = _scope(p)
    raw = (req.query.get("$filter") or "").strip()
    found = list(env.state.role_definitions.values())
    if raw:
        if m := _ROLE_NAME_FILTER.match(raw):
            found = [r for r in found if r.role_name.lower() == m["v"].lower()]
        elif m := _TYPE_FILTER.match(raw):
            found = [r for r in found if r.role_type.lower() == m["v"].lower()]
        else:
            raise bad_request("UnsupportedQueryParameter", f"The filter '{raw}' is not supported.")
    found.sort(key=lambda r: r.role_name.lower())
    return arm_list(env, req, found, lambda chunk: [definition_json(r, scope) for r in chunk])


def role_definition(env: Env, req: Request, p: dict[str, str]) -> Response:
    """GET one role definition by GUID, at a scope or by id."""
    role = env.state.role_definitions.get(p["name"].lower())
    if role is None:
        raise not_found(
            "RoleDefinitionDoesNotExist", f"The role definition '{p['name']}' does not exist."
        )
    return json_response(200, definition_json(role, _scope(p)))


_AUTH = r"^(?P<scope>.*?)/providers/Microsoft\.Authorization"
ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    ({"GET"}, re.compile(_AUTH + "/roleAssignments$", re.I), role_assignments),
    (
        {"GET", "PUT", "DELETE"},
        re.compile(_AUTH + r"/roleAssignments/(?P<name>[^/]+)$", re.I),
        role_assignment,
    ),
    ({"GET"}, re.compile(_AUTH + "/roleDefinitions$", re.I), role_definitions),
    ({"GET"}, re.compile(_AUTH + r"/roleDefinitions/(?P<name>[^/]+)$", re.I), role_definition),
]
