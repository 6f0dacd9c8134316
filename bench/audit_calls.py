"""Figure 3, the full audit: its ARM and Key Vault calls against the minimum derived from the
fleet's structure and page sizes alone (bench/scenarios.py `fleet`), never from the run's log.

Per registry: its rule pages and credential-set pages (the rules and sets to judge); one ARM
read of the registry (login server, admin-user flag, role-assignment mode); its token list; the
squatting check's data-plane token exchange (refresh token, then access token) and one catalog
page. Per secret: its versions pages (expiry, pins behind the newest valid version), once however
many registries use it. Per vault: one read (its permission model; an access-policy vault's
policies come with it). Per RBAC vault: one list of the role assignments at, above and below it
(its pages), which answers every identity's checks. Per distinct role definition: one read.
Unauthenticated first requests answered 401 + challenge are counted apart: one per registry on
its data plane (the token exchange starts from it), and Key Vault's at most one per vault per
process (azure-keyvault keeps a vault's challenge for the process: a second audit makes none).
"""

from __future__ import annotations

import math
from collections import Counter

from bench import scenarios as sc
from bench.common import Row
from bench.economy import count
from bench.wiring import bench_settings, sandbox_context
from sandbox import Sandbox
from shared.services.audit import run_audit

REGISTRIES, SETS, RULES, PAGE = 3, 5, 10, 4
VERSIONS = 2  # each secret of the fleet has two versions: the expired previous one and the current


def _pages(items: int, page: int) -> int:
    return max(1, math.ceil(items / page))


def audit_minimum(registries: int, sets: int, rules: int, page: int) -> dict[str, int]:
    """The calls a full audit cannot do without, by kind (bench/economy.py `kind_of`)."""
    rbac = [k for k in range(sets) if sc.vault_of(k) == sc.RBAC_VAULT]
    # the fleet grants even k on each of the 2 secrets, odd k on the whole vault
    in_rbac_vault = registries * sum(1 if k % 2 else 2 for k in rbac)
    return {
        "list rules": registries * _pages(rules, page),
        "list credential sets": registries * _pages(sets, page),
        "versions": 2 * sets * _pages(VERSIONS, page),
        "vault": len(sc.VAULTS),
        "list role assignments": _pages(in_rbac_vault, page) if rbac else 0,
        "role definition": 1,  # every grant is Key Vault Secrets User
        "GET registries": registries,
        "list tokens": registries,  # the fleet has no tokens: one empty page each
        "POST oauth2": 2 * registries,
        "GET v1": registries,
    }


def measure(
    registries: int = REGISTRIES, sets: int = SETS, rules: int = RULES, page: int = PAGE
) -> tuple[dict[str, int], dict[str, int], int, dict[str, int], bool]:
    """(calls by kind, minimum by kind, writes, 401 challenges by plane, report clean)."""
    sandbox = Sandbox(sc.fleet(registries=registries, sets=sets, rules=rules), page_size=page)
    ctx = sandbox_context(sandbox, bench_settings(sc.registry_names(registries), sc.VAULTS))
    report = run_audit(ctx, reconcile=False)
    _, writes, _, by_kind = count(sandbox)
    challenges = dict(Counter(r.plane for r in sandbox.log.all() if r.challenge))
    return by_kind, audit_minimum(registries, sets, rules, page), writes, challenges, report.clean


def audit_call_rows() -> list[Row]:
    """One row: the full audit's calls on a small fleet with page size 4, against the minimum."""
    by_kind, minimum, writes, challenges, clean = measure()
    calls, least = sum(by_kind.values()), sum(v for v in minimum.values() if v)
    return [
        Row("3", f"calls: full audit ({REGISTRIES} registries, {SETS} sets, {RULES} rules, page {PAGE})",
            float(calls), float(least), "calls", "= minimum",
            by_kind == {k: v for k, v in minimum.items() if v} and writes == 0 and clean,
            f"writes {writes}; 401 challenges by plane {challenges}",
            {"by_kind": by_kind, "minimum_by_kind": minimum}),
    ]  # fmt: skip
