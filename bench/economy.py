"""Figure 3: calls per reaction, counted in the sandbox's request log, against the minimum.

Each reaction runs on a fresh worker context (clients built once for it) over a fresh fleet.
Minimums are computed from the sandbox's state and page sizes, never from the log:

- rotation: one list per page of each managed registry's credential sets, one versions list per
  page of the secret's versions, and per credential set that uses the secret one GET under its
  lease (compare-before-write: ARM defines no ETag on credential sets, so the PATCH cannot be
  conditional and the listed state may be stale by the time the lease is held) and one PATCH,
  whose answer is the read-back (the resource as ARM stored it);
- replay: the same event again, and a late event (new id) for a version already adopted:
  zero writes either way;
- pull-failure diagnosis: one list per page of the registry's cache rules, one GET of the serving
  rule's credential set, one versions list per secret, one read of each vault's permission
  model, and (RBAC vaults) the identity's role assignments — one list per vault, because a
  `principalId eq` filter at vault scope returns grants at, above and below it — plus one read of
  each distinct role definition;
- new repository: one list per page of the registry's cache rules, one GET of the prescribed
  credential set, the PUT and the LRO protocol's status poll and final GET.

Key Vault's unauthenticated first request (401 + challenge) is counted apart: azure-keyvault
answers it once per vault per process.

With `journals` (bench/journal.py) each reaction's journal is the product's TableJournal on
Azurite, and every Table Storage request it sends (retries and the fresh worker's table creation
included) is counted beside the ARM/Key Vault calls, against `TABLE_BOUND` for a rotation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import scenarios as sc
from bench.journal import Journals
from bench.wiring import bench_settings, registry_id, sandbox_context
from sandbox import RequestRecord, Sandbox
from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath, Upstream
from shared.services.context import Context
from shared.services.reactions import dispatch, react
from shared.services.repositories import request_repository
from shared.signals import KEY_VAULT
from shared.signals.pull_failures import PULL_FAILED, PullFailure


@dataclass(frozen=True)
class Fleet:
    """The size of the fleet the call-count figures run on."""

    registries: int = 10
    sets: int = 5
    rules: int = 20
    page_size: int = 4


@dataclass
class Economy:
    """Calls one reaction made, against the minimum."""

    name: str
    calls: int
    minimum: int
    writes: int
    minimum_writes: int
    challenges: int
    by_kind: dict[str, int] = field(default_factory=dict)
    minimum_by_kind: dict[str, int] = field(default_factory=dict)
    status: str = ""
    table_calls: int = 0
    table_by_kind: dict[str, int] = field(default_factory=dict)


# Table Storage requests a rotation may make, however many credential sets it touches (its
# structural minimum is derived in docs/performance.md).
TABLE_BOUND = 15

_COLLECTIONS = (
    ("/cacherules", "list rules"),
    ("/credentialsets", "list credential sets"),
    ("/roleassignments", "list role assignments"),
    ("/tokens", "list tokens"),
)
_ITEMS = (
    ("/roledefinitions/", "role definition"),
    ("/microsoft.keyvault/vaults/", "vault"),
    ("/credentialsets/", "credential set {method}"),
    ("/cacherules/", "cache rule {method}"),
)


def kind_of(record: RequestRecord) -> str:
    """A short name for what a request is."""
    path = record.path.lower()
    if record.plane == "keyvault":
        return "versions" if path.endswith("/versions") else f"kv {record.method}"
    if "operationstatuses" in path:
        return "lro-status"
    name = next((n for suffix, n in _COLLECTIONS if path.endswith(suffix)), None)
    name = name or next((n for part, n in _ITEMS if part in path), None)
    if name is None:
        return f"{record.method} {path.rsplit('/', 2)[-2]}"
    return name.format(method=record.method)


def count(sandbox: Sandbox) -> tuple[int, int, int, dict[str, int]]:
    """(calls, writes, challenges, calls by kind) in the request log, challenges excluded."""
    records = sandbox.log.all()
    calls = [r for r in records if not r.challenge]
    kinds = Counter(kind_of(r) for r in calls)
    return len(calls), sum(r.write for r in calls), len(records) - len(calls), dict(kinds)


def _fleet(fleet: Fleet, journals: Journals | None) -> tuple[Sandbox, Callable[[], Context]]:
    sandbox = Sandbox(
        sc.fleet(registries=fleet.registries, sets=fleet.sets, rules=fleet.rules),
        page_size=fleet.page_size,
    )
    settings = bench_settings(sc.registry_names(fleet.registries), sc.VAULTS)
    return sandbox, lambda: sandbox_context(
        sandbox, settings, journal=journals.new() if journals is not None else None
    )


def _measure(
    name: str,
    sandbox: Sandbox,
    run: Callable[[], Any],
    minimum: dict[str, int],
    writes: int,
    *,
    journals: Journals | None = None,
) -> Economy:
    sandbox.log.clear()
    if journals is not None:
        journals.calls.clear()
    reaction = run()
    calls, wrote, challenges, kinds = count(sandbox)
    status = getattr(getattr(reaction, "status", None), "value", "")
    tables = journals.calls if journals is not None else None
    return Economy(name, calls, sum(minimum.values()), wrote, writes, challenges, kinds, minimum,
                   status, tables.count() if tables else 0, tables.by_kind() if tables else {})  # fmt: skip


def _pages(items: int, page: int) -> int:
    return max(1, math.ceil(items / page))


def _rotation_minimum(sandbox: Sandbox, vault: str, secret: str) -> dict[str, int]:
    state = sandbox.state
    uri = f"https://{vault}.vault.azure.net/secrets/{secret}".lower()
    lists, using = 0, 0
    for registry in state.registries.values():
        lists += _pages(len(registry.credential_sets), sandbox.options.page_size)
        for credential_set in registry.credential_sets.values():
            refs = [u.lower() for c in credential_set.credentials for u in (c.username_uri, c.password_uri)]  # fmt: skip
            using += any(r == uri or r.startswith(uri + "/") for r in refs)
    versions = len(sandbox.vault(vault).secrets[secret].versions)
    return {
        "list credential sets": lists,
        "versions": _pages(versions, sandbox.options.kv_page_size),
        "credential set PATCH": using,
        # compare-before-write under the lease: ARM credential sets carry no ETag, so the PATCH
        # cannot be conditional; the PATCH's answer is the read-back (the resource as stored)
        "credential set GET": using,
    }


def rotation(fleet: Fleet = Fleet(), k: int = 0, journals: Journals | None = None) -> list[Economy]:
    """One rotation across every registry, then its replay and a late event for an older version."""
    sandbox, context = _fleet(fleet, journals)
    ctx = context()
    vault, secret = sc.vault_of(k), sc.secret_names(k)[1]
    sandbox.clock.advance(60)
    older = sandbox.add_secret_version(vault, secret)
    sandbox.clock.advance(60)
    rotated = sandbox.add_secret_version(vault, secret)
    minimum = _rotation_minimum(sandbox, vault, secret)
    first = _measure(
        f"rotation across {fleet.registries} registries", sandbox,
        lambda: react(KEY_VAULT, rotated["eventGrid"], ctx), minimum, minimum["credential set PATCH"],
        journals=journals,
    )  # fmt: skip
    replay = _measure(
        "replayed rotation (same event again)", sandbox,
        lambda: react(KEY_VAULT, rotated["eventGrid"], ctx), {}, 0, journals=journals,
    )  # fmt: skip
    reads = {k: v for k, v in minimum.items() if k in ("list credential sets", "versions")}
    late = _measure(
        "late event for an older version (new id)", sandbox,
        lambda: react(KEY_VAULT, older["cloudEvent"], ctx), reads, 0, journals=journals,
    )  # fmt: skip
    return [first, replay, late]


def _diagnosis_minimum(sandbox: Sandbox, registry: str, k: int) -> dict[str, int]:
    rules = len(sandbox.registry(registry).cache_rules)
    vault = sandbox.vault(sc.vault_of(k))
    secrets = sc.secret_names(k)
    minimum = {
        "list rules": _pages(rules, sandbox.options.page_size),
        "credential set GET": 1,
        "versions": sum(
            _pages(len(vault.secrets[s].versions), sandbox.options.kv_page_size) for s in secrets
        ),
        "vault": 1,
    }
    if vault.rbac:
        principal = sandbox.principal_of(registry, sc.set_name(k))
        roles = {a.role_definition_guid for a in sandbox.role_assignments_for(principal)}
        minimum["list role assignments"] = 1
        minimum["role definition"] = len(roles)
    return minimum


def diagnosis(fleet: Fleet = Fleet(), k: int = 0, journals: Journals | None = None) -> Economy:
    """One pull failure (401) for a repository served by credential set k: diagnosis, report mode."""
    sandbox, context = _fleet(fleet, journals)
    ctx = context()
    registry = sc.registry_names(fleet.registries)[0]
    host_prefix = sc.HOSTS[k % len(sc.HOSTS)][1]
    failure = PullFailure(
        ResourceId.parse(registry_id(registry)),
        TargetPath.parse(f"{host_prefix}/team{k:02d}/img{k:04d}"),
        401,
    )
    return _measure(
        "pull-failure diagnosis (RBAC vault, report mode)", sandbox,
        lambda: dispatch(ctx, PULL_FAILED, failure, signal_id="bench-pull"),
        _diagnosis_minimum(sandbox, registry, k), 0, journals=journals,
    )  # fmt: skip


def new_repository(fleet: Fleet = Fleet(), k: int = 0, journals: Journals | None = None) -> Economy:
    """One request for an upstream repository the policy table allows: the rule is created."""
    sandbox, context = _fleet(fleet, journals)
    ctx = context()
    registry = sc.registry_names(fleet.registries)[0]
    host = sc.HOSTS[k % len(sc.HOSTS)][0]
    upstream = Upstream.parse(f"{host}/team{k:02d}/brand-new")
    rules = len(sandbox.registry(registry).cache_rules)
    minimum = {
        "list rules": _pages(rules, sandbox.options.page_size),
        "credential set GET": 1,
        "cache rule PUT": 1,
        "lro-status": 1,
        "cache rule GET": 1,
    }
    return _measure(
        "new-repository request (rule created)", sandbox,
        lambda: request_repository(ctx, ResourceId.parse(registry_id(registry)), upstream,
                                   signal_id="bench-request"),
        minimum, 1, journals=journals,
    )  # fmt: skip


def all_economies(fleet: Fleet = Fleet(), journals: Journals | None = None) -> list[Economy]:
    """Every call-count figure."""
    return [*rotation(fleet, journals=journals), diagnosis(fleet, journals=journals),
            new_repository(fleet, journals=journals)]  # fmt: skip
