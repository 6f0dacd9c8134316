"""Figure 4: one rotation across 10 registries with 50 ms injected on every ARM and Key Vault
call and the journal on Azurite, against its critical path.

The critical path comes from the scenario's structure alone (page counts from the sandbox's
state and page sizes, never from the run's log):

    claim the event (Table insert)
    -> [list credential sets of each registry, pages in sequence]  ‖  [list the secret's versions]
    -> for each credential set that moves, in parallel:
       take its lease (Table insert) -> GET under the lease (compare-before-write: no ETag on
       credential sets) -> PATCH (its answer is the read-back) -> record the outcome (Table write)
       -> release the lease (Table delete)
    -> complete the claim (Table merge)

Each call is weighted by its own duration measured alone: the injected latency plus the
client's own work for ARM/Key Vault, one request to Azurite for Table Storage (Azurite gets no
injected latency: it is local, and its calls weigh what they cost). Runs are paired: each pair
is one reaction's wall time and, right after it, the critical path from weights measured alone
in that pair; the figure is the median of the per-pair ratios.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from bench import scenarios as sc
from bench.common import Row, paired, time_alone
from bench.journal import Journals, azurite_journals
from bench.wiring import bench_settings, sandbox_context
from sandbox import Sandbox
from shared.domain.ids import ResourceId
from shared.domain.secrets import SecretRef
from shared.services.context import Context
from shared.services.reactions import react
from shared.signals import KEY_VAULT

REGISTRIES = 10
SETS = 10
LATENCY_MS = 50
PAIRS = 5
TABLE_CALLS_ON_PATH = 5  # claim, lease, outcome, release, claim completion


def _pages(items: int, page: int) -> int:
    return max(1, math.ceil(items / page))


def _structure(sandbox: Sandbox, vault: str, secret: str) -> tuple[int, int]:
    """(longest registry's credential-set pages, the secret's version pages), from state."""
    lists = max(
        _pages(len(r.credential_sets), sandbox.options.page_size)
        for r in sandbox.state.registries.values()
    )
    versions = len(sandbox.vault(vault).secrets[secret].versions)
    return lists, _pages(versions, sandbox.options.kv_page_size)


def _weights(ctx: Context, journals: Journals, vault: str, secret: str, k: int) -> dict[str, float]:
    registry = ctx.settings.managed_registries[0]
    credential_set = ctx.registry.get_credential_set(
        ResourceId.parse(str(registry)).child("credentialSets", sc.set_name(k))
    )
    ref = SecretRef.parse(f"https://{vault}.vault.azure.net/secrets/{secret}")
    table = journals.service.get_table_client(journals.weights_table)

    def table_insert() -> None:
        table.create_entity({"PartitionKey": "weight", "RowKey": uuid.uuid4().hex})

    return {
        "list page": time_alone(lambda: ctx.registry.list_credential_sets(registry)),
        "versions": time_alone(lambda: ctx.secrets.list_versions(ref)),
        "GET": time_alone(lambda: ctx.registry.get_credential_set(credential_set.id)),
        "PATCH": time_alone(
            lambda: ctx.registry.update_credential_set(
                credential_set.id,
                username=credential_set.username,
                password=credential_set.password,
            )
        ),
        "table": time_alone(table_insert),
    }


def _critical(weights: dict[str, float], lists: int, versions: int) -> float:
    per_set = weights["GET"] + weights["PATCH"]
    reads = max(lists * weights["list page"], versions * weights["versions"])
    return reads + per_set + TABLE_CALLS_ON_PATH * weights["table"]


def rotation_latency(pairs: int = PAIRS, k: int = 0) -> Row:
    """Median over `pairs` of (reaction wall / its critical path), measured in the same pair."""
    with azurite_journals() as journals:
        return _measure(journals, pairs, k)


def _measure(journals: Journals, pairs: int, k: int) -> Row:
    sandbox = Sandbox(sc.fleet(registries=REGISTRIES, sets=SETS, rules=0))
    ctx = sandbox_context(
        sandbox, bench_settings(sc.registry_names(REGISTRIES), sc.VAULTS), journal=journals.new()
    )
    journals.service.create_table(journals.weights_table)
    vault, secret = sc.vault_of(k), sc.secret_names(k)[1]
    warm = sandbox.add_secret_version(vault, secret)  # a warm worker: clients built, KV challenge
    react(KEY_VAULT, warm["eventGrid"], ctx)
    sandbox.faults.latency(LATENCY_MS)
    structures: list[tuple[int, int]] = []
    weights: list[dict[str, float]] = []
    table_calls: list[int] = []

    def wall() -> float:
        sandbox.clock.advance(60)
        rotated = sandbox.add_secret_version(vault, secret)
        structures.append(_structure(sandbox, vault, secret))
        journals.calls.clear()
        start = time.perf_counter()
        reaction = react(KEY_VAULT, rotated["eventGrid"], ctx)
        elapsed = time.perf_counter() - start
        table_calls.append(journals.calls.count())
        assert reaction.status.value == "applied", reaction.reason
        return elapsed

    def critical() -> float:
        weights.append(_weights(ctx, journals, vault, secret, k))
        lists, versions = structures[-1]
        return _critical(weights[-1], lists, versions)

    result = paired(wall, critical, pairs)
    sandbox.faults.clear()
    details: dict[str, Any] = {
        "paired": result.as_json(),
        "structure(list pages, versions pages)": structures,
        "alone": weights,
        "table_calls_per_reaction": table_calls,
        "table_calls_on_critical_path": TABLE_CALLS_ON_PATH,
    }
    return Row(
        "4", f"rotation across {REGISTRIES} registries, {LATENCY_MS} ms per ARM/KV call, journal on Azurite: wall / critical path",
        sorted(result.a)[len(result.a) // 2], sorted(result.b)[len(result.b) // 2], "s", "<= 1.3x",
        result.ratio <= 1.3, f"median of {pairs} per-pair ratios {result.ratio:.2f}x; warm worker",
        details, paired_ratio=result.ratio,
    )  # fmt: skip
