"""`GET /_sandbox/state`: a summary of the state, never secret values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.env import unix
from sandbox.health import reported_health

if TYPE_CHECKING:
    from sandbox.core import Sandbox


def state_summary(sb: Sandbox) -> dict[str, Any]:
    """Registries, credential sets (with computed health), rules, vaults, grants, counters."""
    with sb._lock:
        state, now = sb.state, sb.clock.now()
        registries = []
        for reg in state.registries.values():
            creds = []
            for cred in reg.credential_sets.values():
                health = reported_health(state, cred, now, sb.options.health_refresh_seconds)[0]
                creds.append(
                    {
                        "name": cred.name,
                        "loginServer": cred.login_server,
                        "principalId": cred.principal_id,
                        "username": cred.credentials[0].username_uri,
                        "password": cred.credentials[0].password_uri,
                        "health": health.as_json(),
                    }
                )
            registries.append(
                {
                    "id": reg.id,
                    "name": reg.name,
                    "repositories": sorted(reg.repositories),
                    "credentialSets": creds,
                    "cacheRules": [
                        {
                            "name": r.name,
                            "source": r.source,
                            "target": r.target,
                            "credentialSetResourceId": r.credential_set_id,
                        }
                        for r in reg.cache_rules.values()
                    ],
                    "adminUserEnabled": reg.auth.admin_user_enabled,
                    "roleAssignmentMode": reg.auth.role_assignment_mode,
                    "scopeMaps": {m.name: list(m.actions) for m in reg.auth.scope_maps.values()},
                    "tokens": [  # no password values
                        {
                            "name": t.name,
                            "status": t.status,
                            "scopeMapId": t.scope_map_id,
                            "passwordExpiries": [
                                str(p.expiry) if p.expiry else None for p in t.passwords
                            ],
                        }
                        for t in reg.auth.tokens.values()
                    ],
                }
            )
        vaults = [
            {
                "id": v.id,
                "name": v.name,
                "rbac": v.rbac,
                "accessPolicies": v.access_policies,
                "secrets": {
                    s.name: [
                        {
                            "version": x.version,
                            "enabled": x.enabled,
                            "nbf": unix(x.not_before),
                            "exp": unix(x.expires),
                            "created": unix(x.created),
                        }
                        for x in s.versions
                    ]
                    for s in v.secrets.values()
                },
            }
            for v in state.vaults.values()
        ]
        assignments = [
            {
                "id": a.guid,
                "scope": a.scope,
                "roleDefinitionId": a.role_definition_guid,
                "principalId": a.principal_id,
                "condition": a.condition,
                "effectiveAt": a.effective_at.isoformat() if a.effective_at else None,
            }
            for a in state.role_assignments.values()
        ]
        return {
            "now": now.isoformat(),
            "clockPinned": sb.clock.pinned,
            "timing": sb.timing(),
            "scenario": sb.scenario.source,
            "registries": registries,
            "vaults": vaults,
            "roleAssignments": assignments,
            "policies": state.policies,
            "secretValuesServed": sb._served,
            "requestCount": len(sb.log.all()),
            "faults": [r.as_json() for r in sb.faults.rules()],
        }
