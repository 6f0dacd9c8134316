"""The soak: a seeded script of mixed events driven through the event reactions, with an Event
Grid-like redelivery loop, over a sandbox that may inject faults.

A script is a list of rounds. A round first changes the world (rotations, disabled versions,
revoked access, pushed repositories; the clock moves a few seconds between changes), then delivers
the round's events in a shuffled order, with duplicates of this and earlier rounds' events and some
events held back to the next round. Every delivery whose handler raised is redelivered (Event
Grid's schedule compressed to nothing) until it is handled or runs out of attempts (dead-lettered).
World changes happen only between deliveries, so a fault-free run of the same script sees the same
world at every delivery and must end in the same state.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sandbox import Sandbox
from shared.errors import CachekeeperError
from shared.ports import Journal
from shared.services import Context
from shared.services.reactions import react
from shared.services.results import Reaction, ReactionStatus
from shared.services.verification import recheck_due
from shared.settings import Settings
from shared.signals import KEY_VAULT, SOURCES
from tests.integration.app_context import REGISTRIES, SUB, VAULTS, demo_settings
from tests.integration.conftest import TIER_TIMING, _demo_document
from tests.soak.checks import current_refs, downgrades, grant_violations, normalized_state
from tests.soak.crash import Crash
from tests.soak.wiring import fast_context
from tests.soak.workers import deliver_to_all

__all__ = ["Figures", "Op", "Script", "Workers", "make_script", "run_script"]

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
MAX_ATTEMPTS = 30  # Event Grid: 30 deliveries within 24 hours, then dead-letter
QUICK_ATTEMPTS = 3  # with late retries: the first few, seconds apart, before the later ones
# Event Grid's later retries that come after a 10-minute claim expired (about 17 min, 47 min,
# 1 h 47, 4 h 47, 10 h 47 and 22 h 47 after the first delivery): a worker killed again while
# handling a late retry leaves a claim the next of them outlives
LATE_ROUNDS = 6
SIGNALS = "/subscriptions/{sub}/resourceGroups/rg-cache/providers/Microsoft.EventGrid/topics/cachekeeper-signals"
FOREIGN_VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-elsewhere"
FOREIGN_REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.ContainerRegistry/registries/othercache"

# (vault, secret) pairs the credential sets of the demo scenario read
SECRETS = [
    ("kv-cache-rbac", "dockerhub-password"),
    ("kv-cache-rbac", "dockerhub-username"),
    ("kv-cache-rbac", "quay-password"),
    ("kv-cache-policies", "ghcr-username"),
    ("kv-cache-policies", "ghcr-password"),
]
# (registry, credential set) -> repositories its cache rules serve
SERVED = {
    ("contosocache", "dockerhub"): ["dockerhub/library/nginx", "dockerhub/library/alpine"],
    ("contosocache", "quay-io"): ["quay/prometheus/prometheus"],
    ("contosocache", "ghcr-acme"): ["ghcr/acme/api", "ghcr/acme/tools/cli"],
    ("fabrikamcache", "dockerhub"): ["dockerhub/library/nginx", "dockerhub/library/redis"],
}
UPSTREAMS = [
    "docker.io/library/busybox",
    "docker.io/library/postgres",
    "docker.io/library/python",
    "docker.io/someone/tool",  # denied by the policy table
    "mcr.microsoft.com/dotnet/sdk",
    "ghcr.io/acme/web",  # served by the wildcard rule already (contosocache)
    "quay.io/coreos/etcd",  # no policy row
]
ROTATION_VARIANTS = ["valid", "valid", "valid", "disabled", "expired", "future"]


@dataclass(frozen=True)
class Op:
    """One change to the world or one event to deliver (`args` are plain data)."""

    kind: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Script:
    seed: int
    rounds: tuple[tuple[Op, ...], ...]

    @property
    def ops(self) -> int:
        return sum(len(r) for r in self.rounds)


def make_script(seed: int, events: int) -> Script:
    """A seeded script that produces about `events` deliveries (duplicates included)."""
    rng = random.Random(seed)
    rounds: list[tuple[Op, ...]] = []
    produced = 0
    while produced < events:
        ops: list[Op] = []
        for _ in range(rng.randint(3, 8)):
            op = _random_op(rng)
            ops.append(op)
            produced += op.kind not in ("disable", "revoke", "advance")
            if op.kind == "disable":
                # a pinned set now points at a disabled version that is newer than every valid
                # one: the next event for that secret must not move it back (downgrade pressure)
                ops.append(Op("expiry", {**op.args, "type": "Microsoft.KeyVault.SecretNearExpiry"}))
                produced += 1
        ops.append(Op("advance", {"seconds": rng.randint(20, 400)}))
        rounds.append(tuple(ops))
    return Script(seed, tuple(rounds))


def _random_op(rng: random.Random) -> Op:  # noqa: PLR0911 - one return per kind of op
    roll = rng.random()
    vault, secret = rng.choice(SECRETS)
    registry, name = rng.choice(sorted(SERVED))
    if roll < 0.35:
        return Op(
            "rotate",
            {
                "vault": vault,
                "secret": secret,
                "variant": rng.choice(ROTATION_VARIANTS),
                "schema": rng.choice(["eventGrid", "cloudEvent"]),
            },
        )
    if roll < 0.42:
        kind = rng.choice(
            ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"]
        )
        return Op("expiry", {"vault": vault, "secret": secret, "type": kind})
    if roll < 0.49:
        return Op("disable", {"vault": vault, "secret": secret})
    if roll < 0.53:
        return Op("revoke", {"registry": registry, "set": name})
    if roll < 0.72:
        return Op(
            "pull",
            {
                "registry": registry,
                "repository": rng.choice(SERVED[(registry, name)] + ["team-b/unknown"]),
                "status": rng.choice([401, 403, 404]),
            },
        )
    if roll < 0.88:
        return Op("request", {"registry": registry, "upstream": rng.choice(UPSTREAMS)})
    if roll < 0.96:
        return Op("foreign", {"kind": rng.choice(["vault", "pull", "request"])})
    return Op("malformed", {"kind": rng.choice(["keyvault", "pull", "request"])})


@dataclass
class Figures:
    """What a run did, and the invariants checked on it."""

    label: str
    deliveries: int = 0
    distinct_events: int = 0
    duplicates: int = 0
    redeliveries: int = 0
    dead_lettered: int = 0
    dead_letters: list[str] = field(default_factory=list)  # event id: the last error
    crashes: int = 0  # workers killed mid-delivery (tests/soak/crash.py)
    # with `late_retry`, events still failing after QUICK_ATTEMPTS quick attempts are parked for
    # Event Grid's later retries (its schedule spreads 30 attempts over 24 hours) instead of
    # being dead-lettered; run_script redelivers them once the script is done
    late_retry: bool = False
    parked: list[dict[str, Any]] = field(default_factory=list)
    late_redeliveries: int = 0
    unexpected_errors: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    writes: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    event_ids: list[str] = field(default_factory=list)
    outcome_ids: set[str] = field(default_factory=set)
    downgrades: list[str] = field(default_factory=list)
    grant_violations: list[str] = field(default_factory=list)
    secret_values_served: int = 0
    seconds: float = 0.0
    state: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        faults = ", ".join(f"{k}: {v}" for k, v in sorted(self.faults.items())) or "none"
        return (
            f"[{self.label}] deliveries {self.deliveries} ({self.distinct_events} distinct events, "
            f"{self.duplicates} duplicates), faults injected {sum(self.faults.values())} ({faults}) "
            f"over {self.requests} requests, redeliveries {self.redeliveries}, dead-lettered "
            f"{self.dead_lettered}, workers killed {self.crashes}, redelivered late "
            f"{self.late_redeliveries}, writes {self.writes}, downgrades {len(self.downgrades)}, "
            f"grant violations {len(self.grant_violations)}, secret values served "
            f"{self.secret_values_served}, reactions {dict(sorted(self.statuses.items()))}, "
            f"{self.seconds:.1f} s"
        )


def new_sandbox(seed: int) -> Sandbox:
    """The demo scenario at a pinned START, ARM pages of 20, with the integration tier's health
    lag and RBAC delay."""
    sandbox = Sandbox(seed=seed, page_size=20, **TIER_TIMING)
    sandbox.clock.set(START)
    sandbox.load_scenario(copy.deepcopy(_demo_document()))
    return sandbox


def inject_faults(sandbox: Sandbox, seed: int) -> None:
    """~10 % 429 (Retry-After: 1), ~5 % 500, ~2 % timeouts, and a little random latency."""
    faults = sandbox.faults
    faults.seed(seed)
    faults.latency(2, rate=0.3)
    faults.latency(10, rate=0.02)
    faults.rate("429", 0.10, retry_after=1)
    faults.rate("500", 0.05 / 0.90)
    faults.rate("timeout", 0.02 / (0.90 * (1 - 0.05 / 0.90)))


Handler = Callable[[Mapping[str, Any], Context], Reaction]
Workers = Callable[[Sandbox, Settings, Journal | None], list[Context]]


def route(event: Mapping[str, Any]) -> Handler:
    """The reaction an Event Grid subscription would deliver this event to."""
    kind = str(event.get("eventType") or event.get("type") or "")
    for source in SOURCES:
        if kind in source.event_types:
            return partial(react, source)
    return partial(react, KEY_VAULT)  # the malformed ones: the vault subscription gets them


def run_script(
    script: Script,
    *,
    faults: bool,
    journal: Journal | None = None,
    label: str = "",
    secret_values: list[str] | None = None,
    workers: Workers | None = None,
    late: timedelta | None = None,
) -> tuple[Figures, Context]:
    """Run `script` on a fresh sandbox; `secret_values` collects every value the sandbox holds.
        `workers` builds the workers every delivery goes to (default: one, over the sandbox); with
        several, each event of a batch is delivered to all of them at once, on threads. With `late`,
        events that keep failing are redelivered after the script, `late` later, up to LATE_ROUNDS
    times (each time after the claims and leases a failed attempt left have expired)."""
    started = time.monotonic()
    sandbox = new_sandbox(script.seed)
    settings = demo_settings(REMEDIATION_MODE="fix")
    if workers is None:
        contexts = [fast_context(sandbox, settings=settings, journal=journal)]
    else:
        contexts = workers(sandbox, settings, journal)
    ctx = contexts[0]
    figures = Figures(label or ("faults" if faults else "reference"), late_retry=late is not None)
    initial = current_refs(sandbox)
    if faults:
        inject_faults(sandbox, script.seed)
    chooser = random.Random(script.seed * 7919 + 1)  # delivery order: the same in every run
    counter = 0
    delivered: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for number, ops in enumerate(script.rounds):
        if faults and number % 4 == 1:
            # an outage longer than the SDK's retries (1 + 3 attempts): the handler raises and
            # Event Grid must redeliver
            sandbox.faults.script(None, "503", count=4, retry_after=1)
        batch: list[dict[str, Any]] = list(held)
        held = []
        for op in ops:
            counter += 1
            event = _apply(sandbox, op, f"soak-{script.seed}-{counter}")
            if event is not None:
                batch.append(event)
                figures.event_ids.append(str(event["id"]))
        # duplicates of this round's and earlier rounds' events, then reorder and hold some back
        for event in list(batch) + delivered[-20:]:
            if event.get("_malformed") is None and chooser.random() < 0.12:
                batch.append(event)
                figures.duplicates += 1
        chooser.shuffle(batch)
        keep: list[dict[str, Any]] = []
        for event in batch:  # about 8 % arrive a round late
            (keep if chooser.random() >= 0.08 else held).append(event)
        deliver_to_all(contexts, keep, figures, _deliver)
        _run_verification_timer(ctx, figures)
        delivered.extend(keep)
    deliver_to_all(contexts, held, figures, _deliver)
    if late is not None:
        _retry_later(sandbox, contexts[0], figures, late)
    figures.distinct_events = len(set(figures.event_ids))
    records = sandbox.log.all()
    figures.requests = len(records)
    figures.faults = Counter(r.fault for r in records if r.fault)
    figures.writes = sum(1 for r in records if r.write and not r.fault and r.status < 300)
    figures.downgrades = downgrades(sandbox, initial)
    figures.grant_violations = grant_violations(sandbox)
    figures.secret_values_served = sandbox.secret_values_served
    figures.state = normalized_state(sandbox)
    figures.seconds = time.monotonic() - started
    if secret_values is not None:
        secret_values.extend(_secret_values(sandbox))
    return figures, ctx


def _retry_later(sandbox: Sandbox, ctx: Context, figures: Figures, late: timedelta) -> None:
    """Event Grid's later retries of the parked events, each `late` after the one before."""
    for later_round in range(1, LATE_ROUNDS + 1):
        if not figures.parked:
            return
        sandbox.clock.advance(late.total_seconds())
        parked, figures.parked = figures.parked, []
        figures.late_retry = later_round < LATE_ROUNDS  # after the last: dead-lettered
        figures.late_redeliveries += len(parked)
        deliver_to_all([ctx], parked, figures, _deliver)
        figures.deliveries -= len(parked)  # redeliveries, not new deliveries
        figures.redeliveries += len(parked)


def _run_verification_timer(ctx: Context, figures: Figures) -> None:
    """What the verification timer does between rounds; a transient failure waits for its next
    run, as on the platform."""
    try:
        recheck_due(ctx)
    except CachekeeperError as error:
        if not error.transient:
            figures.unexpected_errors.append(f"verification timer: permanent {error!r} raised")
    except Exception as error:  # a bug: nothing outside our error tree may escape
        figures.unexpected_errors.append(f"verification timer: {type(error).__name__}: {error}")


def _deliver(ctx: Context, events: list[dict[str, Any]], figures: Figures) -> None:
    pending = [(e, 1) for e in events]
    while pending:
        retry: list[tuple[dict[str, Any], int]] = []
        for event, attempt in pending:
            figures.deliveries += attempt == 1
            payload = {k: v for k, v in event.items() if not k.startswith("_")}
            try:
                reaction = route(payload)(payload, ctx)
            except Crash as crash:  # nothing answered the delivery: Event Grid redelivers
                figures.crashes += 1
                if crash.worker is not None:
                    crash.worker.respawn()
                retry.append((event, attempt + 1))
                figures.redeliveries += 1
            except CachekeeperError as error:
                if not error.transient:
                    figures.unexpected_errors.append(f"{event['id']}: permanent {error!r} raised")
                if attempt >= QUICK_ATTEMPTS and figures.late_retry:
                    figures.parked.append(event)
                elif attempt >= MAX_ATTEMPTS:
                    figures.dead_lettered += 1
                    figures.dead_letters.append(f"{event['id']}: {error}")
                else:
                    retry.append((event, attempt + 1))
                    figures.redeliveries += 1
            except Exception as error:  # a bug: nothing outside our error tree may escape
                figures.unexpected_errors.append(f"{event['id']}: {type(error).__name__}: {error}")
            else:
                figures.statuses[reaction.status.value] += 1
                if reaction.status is not ReactionStatus.DUPLICATE:
                    figures.outcome_ids.add(str(event["id"]))
        pending = retry


def _apply(sandbox: Sandbox, op: Op, event_id: str) -> dict[str, Any] | None:  # noqa: PLR0911
    """Carry out one op on the sandbox; the event it produces, if any."""
    args = op.args
    if op.kind == "advance":
        sandbox.clock.advance(args["seconds"])
        return None
    sandbox.clock.advance(2)  # versions are ordered by creation time (1 s resolution)
    now = sandbox.clock.now()
    if op.kind == "rotate":
        variant = args["variant"]
        options: dict[str, Any] = {
            "disabled": {"enabled": False},
            "expired": {"expires": now - timedelta(minutes=1)},
            "future": {"not_before": now + timedelta(minutes=20)},
        }.get(variant, {"expires": now + timedelta(days=90)})
        added = sandbox.add_secret_version(
            args["vault"],
            args["secret"],
            value=f"soak-secret-{event_id}-{random.Random(event_id).getrandbits(64):x}",
            **options,
        )
        event: dict[str, Any] = dict(added[args["schema"]])
        return event
    if op.kind == "expiry":
        version = sandbox.secret_version(args["vault"], args["secret"])
        vault = args["vault"]
        return {
            "id": event_id,
            "topic": VAULTS[vault],
            "subject": args["secret"],
            "eventType": args["type"],
            "eventTime": now.isoformat(),
            "data": {
                "Id": f"https://{vault}.vault.azure.net/secrets/{args['secret']}/{version.version}",
                "VaultName": vault,
                "ObjectType": "Secret",
                "ObjectName": args["secret"],
                "Version": version.version,
                "NBF": None,
                "EXP": int(version.expires.timestamp()) if version.expires else None,
            },
            "dataVersion": "1",
            "metadataVersion": "1",
        }
    if op.kind == "disable":
        sandbox.disable_secret_version(args["vault"], args["secret"])
        return None
    if op.kind == "revoke":
        principal = sandbox.principal_of(args["registry"], args["set"])
        sandbox.remove_role_assignments(principal_id=principal)
        if args["set"] == "ghcr-acme":
            sandbox.set_access_policy("kv-cache-policies", principal, [])
        return None
    if op.kind == "pull":
        return _signal(event_id, "cachekeeper.PullFailed", now, {
            "registry": REGISTRIES[args["registry"]],
            "repository": args["repository"],
            "status": args["status"],
        })  # fmt: skip
    if op.kind == "request":
        return _signal(event_id, "cachekeeper.RepositoryRequested", now, {
            "registry": REGISTRIES[args["registry"]],
            "upstream": args["upstream"],
            "requestedBy": "soak",
        })  # fmt: skip
    if op.kind == "foreign":
        return _foreign(sandbox, args["kind"], event_id, now)
    if op.kind == "malformed":
        kinds = {
            "keyvault": {"id": event_id, "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
                         "topic": VAULTS["kv-cache-rbac"], "subject": "x", "data": {"Id": "not a uri"}},
            "pull": _signal(event_id, "cachekeeper.PullFailed", now, {"registry": 7}),
            "request": _signal(event_id, "cachekeeper.RepositoryRequested", now, {"upstream": []}),
        }  # fmt: skip
        return {**kinds[args["kind"]], "_malformed": True}
    raise AssertionError(f"unknown op {op.kind}")


def _signal(event_id: str, kind: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SIGNALS.format(sub=SUB),
        "type": kind,
        "subject": str(data.get("repository") or data.get("upstream") or ""),
        "time": now.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def _foreign(sandbox: Sandbox, kind: str, event_id: str, now: datetime) -> dict[str, Any]:
    if kind == "vault":
        # a real-looking rotation event from a vault that is not on the allow-list
        version = sandbox.secret_version("kv-cache-rbac", "dockerhub-password")
        return {
            "id": event_id,
            "topic": FOREIGN_VAULT,
            "subject": "dockerhub-password",
            "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
            "eventTime": now.isoformat(),
            "data": {
                "Id": f"https://kv-elsewhere.vault.azure.net/secrets/dockerhub-password/{version.version}",
                "VaultName": "kv-elsewhere",
                "ObjectType": "Secret",
                "ObjectName": "dockerhub-password",
                "Version": version.version,
            },
        }
    if kind == "pull":
        return _signal(event_id, "cachekeeper.PullFailed", now, {
            "registry": FOREIGN_REGISTRY, "repository": "dockerhub/library/nginx", "status": 401,
        })  # fmt: skip
    return _signal(event_id, "cachekeeper.RepositoryRequested", now, {
        "registry": FOREIGN_REGISTRY, "upstream": "docker.io/library/busybox",
    })  # fmt: skip


def _secret_values(sandbox: Sandbox) -> list[str]:
    with sandbox._lock:
        return [
            version.value
            for vault in sandbox.state.vaults.values()
            for secret in vault.secrets.values()
            for version in secret.versions
        ]


def journal_text(outcomes: list[Any], findings: list[Any]) -> str:
    """Every journal entry as JSON text, for scanning."""
    return json.dumps(
        [o.to_dict() for o in outcomes] + [f.to_dict() for f in findings], default=str
    )
