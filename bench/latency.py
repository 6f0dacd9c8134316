"""Figure 4: one rotation across 10 registries with 50 ms injected on every call, against its
critical path.

The critical path comes from the reaction's dependency structure:

    [list credential sets of each registry, pages in sequence]  ‖  [list the secret's versions]
        -> for each credential set that moves, in parallel:
           GET under the lease (compare-before-write) -> PATCH -> read-back GET

Its length is the longest chain, each call weighted by its own duration measured alone (the
injected latency plus the client's own work for that one call), with the page and set counts
taken from this run's request log. Anything above it is the cost of our code: threads, planning,
journal writes, and calls contending for the interpreter.
"""

from __future__ import annotations

import time
from collections import Counter

from bench import scenarios as sc
from bench.common import Row, median, time_alone
from bench.economy import kind_of
from bench.wiring import bench_settings, sandbox_context
from sandbox import Sandbox
from shared.domain.ids import ResourceId
from shared.domain.secrets import SecretRef
from shared.services.reactions import react
from shared.signals import KEY_VAULT

REGISTRIES = 10
SETS = 10
LATENCY_MS = 50


def rotation_latency(repeat: int = 5, k: int = 0) -> Row:
    """Median wall time of `repeat` rotations vs the critical path of each."""
    sandbox = Sandbox(sc.fleet(registries=REGISTRIES, sets=SETS, rules=0))
    ctx = sandbox_context(sandbox, bench_settings(sc.registry_names(REGISTRIES), sc.VAULTS))
    vault, secret = sc.vault_of(k), sc.secret_names(k)[1]
    warm = sandbox.add_secret_version(vault, secret)  # a warm worker: clients built, KV challenge
    react(KEY_VAULT, warm["eventGrid"], ctx)
    sandbox.faults.latency(LATENCY_MS)
    walls, chains = [], []
    for _ in range(repeat):
        sandbox.clock.advance(60)
        rotated = sandbox.add_secret_version(vault, secret)
        sandbox.log.clear()
        start = time.perf_counter()
        reaction = react(KEY_VAULT, rotated["eventGrid"], ctx)
        walls.append(time.perf_counter() - start)
        assert reaction.status.value == "applied", reaction.reason
        records = [r for r in sandbox.log.all() if not r.challenge]
        pages = Counter(r.path.lower() for r in records if kind_of(r) == "list credential sets")
        per_set: dict[str, Counter[str]] = {}
        for r in records:
            if kind_of(r) in ("credential set GET", "credential set PATCH"):
                per_set.setdefault(r.path.lower(), Counter())[r.method] += 1
        chains.append(
            (
                max(pages.values()),
                sum(kind_of(r) == "versions" for r in records),
                max(((c["GET"], c["PATCH"]) for c in per_set.values()), default=(0, 0)),
            )
        )
    # each kind of call, alone, with the same injected latency
    registry = ctx.settings.managed_registries[0]
    credential_set = ctx.registry.get_credential_set(
        ResourceId.parse(str(registry)).child("credentialSets", sc.set_name(k))
    )
    ref = SecretRef.parse(f"https://{vault}.vault.azure.net/secrets/{secret}")
    t_list = time_alone(lambda: ctx.registry.list_credential_sets(registry))
    t_versions = time_alone(lambda: ctx.secrets.list_versions(ref))
    t_patch = time_alone(
        lambda: ctx.registry.update_credential_set(
            credential_set.id, username=credential_set.username, password=credential_set.password
        )
    )
    t_get = time_alone(lambda: ctx.registry.get_credential_set(credential_set.id))
    sandbox.faults.clear()
    paths = [
        max(list_pages * t_list, versions * t_versions) + gets * t_get + patches * t_patch
        for list_pages, versions, (gets, patches) in chains
    ]
    wall, critical = median(walls), median(paths)
    return Row(
        "4", f"rotation across {REGISTRIES} registries, {LATENCY_MS} ms per call: wall / critical path",
        wall, critical, "s", "<= 1.3x", wall <= 1.3 * critical,
        f"median of {repeat}; warm worker",
        {"walls": walls, "critical_paths": paths, "chains(list pages, versions pages, (GETs, PATCHes) per set)": chains,
         "alone": {"list page": t_list, "versions": t_versions, "PATCH": t_patch, "GET": t_get}},
    )  # fmt: skip
