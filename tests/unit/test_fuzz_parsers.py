"""Hostile input: property-based fuzzing of every envelope parser and the policy
importer. Whatever arrives, the parsers raise nothing but InvalidInputError subclasses, and the
event reactions (what the Event Grid triggers call) record and acknowledge it without raising.
The strategies carry what broke them before: nesting past any limit, integers of thousands of
digits, lone surrogates, newlines at the end of names, and Unicode look-alikes.

Budgets come from hypothesis profiles chosen by CACHEKEEPER_FUZZ: `ci` (default, `make test`,
about 1,000 cases in all) or `soak` (`make soak`, 10,000 cases in all).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.documents import check_limits, load_document
from shared.domain.policies import Policy
from shared.errors import InvalidInputError
from shared.services.policies import parse_document
from shared.services.reactions import react
from shared.services.results import ReactionStatus
from shared.signals import KEY_VAULT, PULL_FAILURES, REGISTRY, REPOSITORY_REQUESTS
from shared.signals.envelope import Envelope
from shared.signals.keyvault import parse_keyvault_signal
from shared.signals.pull_failures import parse_pull_failed, parse_pull_failure_alert
from shared.signals.registry import parse_registry_event
from tests.conftest import EVENTS, ROOT, load_event
from tests.fakes import CONTOSO, VAULT, make_world
from tests.soak.checks import is_terminal

PROPERTIES = 10  # the @given tests below; each gets an equal share of the budget
TOTAL = {"ci": 1_000, "soak": 10_000}
settings.register_profile(
    "fuzz-ci",
    max_examples=TOTAL["ci"] // PROPERTIES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz-soak",
    max_examples=TOTAL["soak"] // PROPERTIES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(f"fuzz-{os.environ.get('CACHEKEEPER_FUZZ', 'ci')}")
fuzz = settings(PROFILE)

# ---- strategies ---------------------------------------------------------------------------

# damage that got past validation or parsing before: a lone surrogate, a newline before the end
# (`$` matched there), look-alikes Unicode matching folds (long s, Kelvin sign, Arabic digits)
DAMAGE = st.sampled_from(["\n", "\r\n", "\ud800", "\udfff", "\u017f", "\u212a", "\u0664", "\x00"])
HOSTILE_TEXT = st.builds(
    lambda a, d, b: a + d + b, st.text(max_size=12), DAMAGE, st.text(max_size=3)
)
HUGE_INTEGERS = st.integers(min_value=10**300, max_value=10**4000) | st.just(-(10**400))


def nested(depth: int, leaf: Any = 1) -> Any:
    """`leaf` under `depth` levels of alternating arrays and objects."""
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"x": leaf}
    return leaf


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | HUGE_INTEGERS
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | HOSTILE_TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | HOSTILE_TEXT, inner, max_size=5)
    ),
    max_leaves=20,
) | st.integers(60, 300).map(nested)
# strings that get past the first checks: ids, URIs, times, repository paths, with damage
TRICKY = st.sampled_from(
    [
        str(CONTOSO),
        str(VAULT),
        str(CONTOSO).upper(),
        f"{CONTOSO}/credentialSets/x",
        "/subscriptions//resourceGroups/x",
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerRegistry/registries/",
        "https://kv-cache.vault.azure.net/secrets/a/" + "f" * 32,
        "https://kv-cache.vault.azure.net/secrets/",
        "https://evil.example/secrets/a",
        "dockerhub/library/nginx",
        "docker.io/library/*",
        "../../etc/passwd",
        "a" * 5000,
        "\x00\u202e\ud7ff",
        "2026-11-23T12:00:00Z",
        "9999-12-31T23:59:59.9999999+14:00",
        "1e400",
        "NaN",
        "-1",
        " ",
        "dockerhub\n",
        "contosocache\n",
        f"{CONTOSO}\n",
        str(CONTOSO).replace("/resourceGroups/", "/resourceGroups/x\n"),
        "https://kv-cache.vault.azure.net/secrets/a/" + "f" * 32 + "\n",
        "http\u017f://kv-cache.vault.azure.net/secrets/a",
        "docker.io\n/library/nginx",
        "docker.io:\u0664\u0664\u0663/library/nginx",
        "1" * 5000,
    ]
)
VALUES = JSON | TRICKY | st.lists(TRICKY, max_size=3)


def _fixture(name: str) -> dict[str, Any]:
    data = load_event(name)
    assert isinstance(data, dict)
    return data


def _doc(name: str) -> dict[str, Any]:
    data = json.loads((ROOT / "docs" / "events" / name).read_text())
    assert isinstance(data, dict)
    return data


SAMPLES = {
    "keyvault": [_fixture(p.name) for p in sorted(EVENTS.glob("keyvault.*.json"))],
    "registry": [_fixture(p.name) for p in sorted(EVENTS.glob("containerregistry.*.json"))],
    "pull": [_doc("cachekeeper.PullFailed.example.json")],
    "request": [_doc("cachekeeper.RepositoryRequested.example.json")],
    "alert": [_fixture(p.name) for p in sorted(EVENTS.glob("azure-monitor.*.json"))],
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn, family: str) -> Any:
    """A real sample event with a few values replaced, removed or re-cased: near-valid input."""
    samples = SAMPLES[family]
    if not samples:
        return draw(JSON)
    event = copy.deepcopy(draw(st.sampled_from(samples)))
    paths = _paths(event)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        parent: Any = event
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "delete", "upper"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "upper" and isinstance(parent, dict) and isinstance(path[-1], str):
                parent[path[-1].upper()] = parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return event


def anything(family: str) -> st.SearchStrategy[Any]:
    return mutated(family) | JSON


def only_invalid_input(parse: Callable[[Any], Any], value: Any) -> None:
    try:
        parse(value)
    except InvalidInputError:
        pass


# ---- parsers: nothing but InvalidInputError --------------------------------------------------


@fuzz
@given(anything("keyvault"))
def test_keyvault_envelopes(event: Any) -> None:
    only_invalid_input(lambda e: parse_keyvault_signal(Envelope.from_dict(e)), event)


@fuzz
@given(anything("pull"))
def test_pull_failed_envelopes(event: Any) -> None:
    only_invalid_input(lambda e: parse_pull_failed(Envelope.from_dict(e)), event)


@fuzz
@given(anything("alert"))
def test_pull_failure_alerts(payload: Any) -> None:
    only_invalid_input(parse_pull_failure_alert, payload)


@fuzz
@given(anything("registry"))
def test_registry_envelopes(event: Any) -> None:
    only_invalid_input(lambda e: parse_registry_event(Envelope.from_dict(e)), event)


POLICY_ROW = {
    "id": "dockerhub-library",
    "upstream": "docker.io/library/*",
    "action": "allow",
    "targetTemplate": "dockerhub/library/{path}",
    "ruleKind": "static",
    "credentialSet": "dockerhub",
    "registry": "contosocache",
    "priority": 10,
    "enabled": True,
    "description": "x",
}
POLICY_DOCS = st.one_of(
    JSON,
    st.builds(
        lambda rows: {"version": 1, "policies": rows},
        st.lists(
            st.dictionaries(st.sampled_from(sorted(POLICY_ROW)), VALUES, max_size=9).map(
                lambda row: {**POLICY_ROW, **row}
            ),
            max_size=4,
        ),
    ),
    st.lists(st.dictionaries(st.sampled_from(sorted(POLICY_ROW)) | st.text(max_size=8), VALUES)),
)


@fuzz
@given(POLICY_DOCS)
def test_policy_import_documents(document: Any) -> None:
    def parse(doc: Any) -> None:
        for policy in parse_document(doc):
            assert isinstance(policy, Policy)
            Policy.from_dict(policy.to_dict())  # what is accepted round-trips

    only_invalid_input(parse, document)


def _json_text(document: Any) -> str:
    try:
        return json.dumps(document)  # lone surrogates become \\udXXX escapes
    except (RecursionError, ValueError):
        return "[" * 3000


# texts that broke the parsers before: nesting past the recursion limit, integers past Python's
# 4,300 digits (also in hexadecimal), an alias bomb, surrogate escapes, non-finite numbers
HOSTILE_DOCUMENTS = st.one_of(
    st.integers(60, 1500).flatmap(lambda n: st.sampled_from(["[" * n + "]" * n, "{\"a\": " * n + "1" + "}" * n, "a:" + " [" * n])),
    st.sampled_from([101, 4301, 6000]).map(lambda n: '{"policies": [{"priority": ' + "9" * n + "}]}"),
    st.sampled_from([84, 3600, 4000]).map(lambda n: "policies: [{priority: 0x" + "f" * n + "}]"),
    st.just("a: &a [x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 8)}]\n" for c in "bcdefgh")),
    st.sampled_from(['{"id": "\\ud800"}', 'id: "\\udfff"', "[NaN]", '{"x": 1e400}', "x: .inf", "when: 2026-13-01"]),
)  # fmt: skip


@fuzz
@given(
    st.binary(max_size=200) | st.text(max_size=200) | JSON.map(_json_text) | HOSTILE_DOCUMENTS,
    st.sampled_from(["json", "yaml"]),
)
def test_policy_import_text(text: str | bytes, fmt: str) -> None:
    only_invalid_input(lambda t: parse_document(load_document(t, fmt)), text)  # type: ignore[arg-type]


@fuzz
@given(
    st.text(max_size=200) | JSON.map(_json_text) | HOSTILE_DOCUMENTS,
    st.sampled_from(["json", "yaml"]),
)
def test_what_the_loader_accepts_can_be_written_and_is_within_the_limits(
    text: str, fmt: str
) -> None:
    try:
        document = load_document(text, fmt)  # type: ignore[arg-type]
    except InvalidInputError:
        return
    json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")  # no lone surrogate
    check_limits(document)  # nesting, size, numbers


# ---- reactions: hostile events are recorded and acknowledged, never raised -------------------

REACTIONS = {
    "keyvault": partial(react, KEY_VAULT),
    "pull": partial(react, PULL_FAILURES),
    "request": partial(react, REPOSITORY_REQUESTS),
    "registry": partial(react, REGISTRY),
}


@fuzz
@given(st.sampled_from(sorted(REACTIONS)).flatmap(lambda f: st.tuples(st.just(f), anything(f))))
def test_event_reactions_never_raise_on_hostile_events(case: tuple[str, Any]) -> None:
    family, event = case
    world = make_world(remediation="fix")
    reaction = REACTIONS[family](event, world.ctx)
    assert reaction.status is not ReactionStatus.APPLIED  # the world holds nothing to change
    # recorded and acknowledged: the event's one terminal outcome is in the journal
    assert [o for o in world.journal.outcome_log if is_terminal(o)], reaction
    assert world.registry.list_cache_rules(CONTOSO) == []


@fuzz
@given(JSON)
def test_event_reactions_never_raise_on_any_json(event: Any) -> None:
    for handler in REACTIONS.values():
        world = make_world()
        handler(event, world.ctx)


@fuzz
@given(mutated("keyvault"))
def test_a_rejected_event_changes_nothing(event: Any) -> None:
    world = make_world(remediation="fix")
    reaction = react(KEY_VAULT, event, world.ctx)
    if reaction.status in (ReactionStatus.REJECTED, ReactionStatus.IGNORED):
        assert world.journal.outcome_log[-1].status.value in ("rejected", "ignored")
