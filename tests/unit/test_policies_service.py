"""The policy-table use cases over the in-memory fakes: validation, all-or-nothing imports,
document versions, empty imports, ETags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.models import CredentialSet
from shared.domain.secrets import SecretRef
from shared.errors import (
    ConcurrencyError,
    EmptyImportError,
    InvalidInputError,
    InvalidPolicyError,
    UnsupportedDocumentVersionError,
    UpstreamUnavailableError,
)
from shared.services import policies
from tests.fakes import CONTOSO, FABRIKAM, NOW, World, make_world

ROWS: list[dict[str, Any]] = [
    {"id": "hub", "upstream": "docker.io/library/*", "action": "allow",
     "targetTemplate": "dockerhub/library/{path}", "credentialSet": "dockerhub"},
    {"id": "hub-deny", "upstream": "docker.io/*", "action": "deny"},
    {"id": "mcr", "upstream": "mcr.microsoft.com/*", "action": "allow", "targetTemplate": "mcr/{path}"},
]  # fmt: skip


def doc(rows: list[Any], **extra: Any) -> dict[str, Any]:
    return {"version": 1, "policies": rows, **extra}


def world_with_sets(*placements: tuple[Any, str]) -> World:
    world = make_world()
    ref = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/user")
    for registry, name in placements:
        world.registry.add_credential_set(
            CredentialSet(registry.child("credentialSets", name), "docker.io", ref, ref)
        )
    return world


def test_an_import_validates_everything_then_replaces_the_table_and_stamps_changes() -> None:
    world = world_with_sets((CONTOSO, "dockerhub"), (FABRIKAM, "dockerhub"))
    result = policies.import_policies(world.ctx, doc(ROWS), changed_by="ops")
    assert result.created == ("hub", "hub-deny", "mcr")
    stored = {r.policy.id: r.policy for r in world.policies.list_policies()}
    assert {p.changed_by for p in stored.values()} == {"ops"}
    assert {p.changed_at for p in stored.values()} == {NOW}
    later = datetime(2027, 1, 1, tzinfo=UTC)
    world.clock.set(later)
    edited = [ROWS[0], {**ROWS[2], "priority": 5}]
    second = policies.import_policies(world.ctx, doc(edited), changed_by="ops2")
    assert (second.created, second.updated, second.deleted) == ((), ("mcr",), ("hub-deny",))
    assert world.policies.get_policy("hub").policy.changed_by == "ops"  # unchanged rows keep stamps
    assert world.policies.get_policy("mcr").policy.changed_by == "ops2"
    assert world.policies.get_policy("mcr").policy.changed_at == later


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (doc([ROWS[0], {"id": "x1", "upstream": "ghcr.io/a", "action": "maybe"}]), "row 2 (id 'x1'): policy 'x1': action must be"),
        (doc([ROWS[0], ROWS[0]]), "row 2 (id 'hub'): id 'hub' repeats row 1"),
        (doc([ROWS[0], "not a row"]), "row 2: a policy must be an object"),
        (doc(ROWS, extra=1), "unknown top-level field(s): extra"),
        ({"version": 1, "rows": ROWS}, "unknown top-level field(s): rows"),
        (doc([{**ROWS[1], "id": "Test"}]), "reserved"),
        (ROWS, "an import document is an object"),
    ],
)  # fmt: skip
def test_one_bad_row_writes_nothing_and_is_named(rows: Any, message: str) -> None:
    world = world_with_sets((CONTOSO, "dockerhub"))
    policies.import_policies(world.ctx, doc([ROWS[2]]))
    before = world.policies.list_policies()
    with pytest.raises(InvalidPolicyError) as caught:
        policies.import_policies(world.ctx, rows)
    assert message in caught.value.message
    assert world.policies.list_policies() == before


def test_a_refused_import_names_every_bad_row_not_only_the_first() -> None:
    world = world_with_sets((CONTOSO, "dockerhub"))
    rows = [ROWS[0], {"id": "x1", "upstream": "ghcr.io/a", "action": "maybe"}, ROWS[2],
            "not a row", ROWS[0]]  # fmt: skip
    pulls = [{"id": "p1", "registry": "contosocache"}, "nope", {"id": "p3"}]
    with pytest.raises(InvalidPolicyError) as caught:
        policies.import_policies(world.ctx, doc(rows))
    named = caught.value.message.split("; ")
    assert [part.split(":")[0] for part in named] == [
        "row 2 (id 'x1')",
        "row 4",
        "row 5 (id 'hub')",
    ]
    with pytest.raises(InvalidPolicyError) as caught:
        policies.parse_pull_rows({"version": 1, "policies": [], "pullPolicies": pulls})
    assert "pull row 2" in caught.value.message and "pull row 3" in caught.value.message
    assert world.policies.list_policies() == []


def test_credential_sets_are_checked_only_when_the_registry_state_can_be_read() -> None:
    world = world_with_sets()  # no credential set anywhere
    with pytest.raises(InvalidPolicyError, match="does not exist in any managed registry"):
        policies.import_policies(world.ctx, doc(ROWS))
    assert world.policies.list_policies() == []

    class Unavailable:
        def __getattr__(self, name: str) -> Any:
            return getattr(world.registry, name)

        def list_credential_sets(self, registry: Any) -> list[CredentialSet]:
            raise UpstreamUnavailableError("ARM answered 503")

    from dataclasses import replace

    down = replace(world.ctx, registry=Unavailable())
    result = policies.import_policies(down, doc(ROWS))
    assert len(result.warnings) == 2
    assert all("could not be read" in w for w in result.warnings)
    assert len(world.policies.list_policies()) == 3


def test_put_checks_the_etag_even_when_it_is_garbage() -> None:
    world = world_with_sets((CONTOSO, "dockerhub"))
    stored, warnings = policies.put_policy(world.ctx, "hub", ROWS[0])
    assert warnings == [
        "policy 'hub': credential set 'dockerhub' does not exist in fabrikamcache; requests there will be refused"
    ]
    for stale in ("garbage", ""):
        with pytest.raises(ConcurrencyError):
            policies.put_policy(world.ctx, "hub", ROWS[0], if_match=stale)
    with pytest.raises(ConcurrencyError):
        policies.delete_policy(world.ctx, "ghost", if_match=stored.etag)
    policies.put_policy(world.ctx, "hub", {**ROWS[0], "priority": 1}, if_match=stored.etag)
    assert world.policies.get_policy("hub").policy.priority == 1


def test_export_then_import_is_a_no_op_and_yaml_round_trips() -> None:
    world = world_with_sets((CONTOSO, "dockerhub"), (FABRIKAM, "dockerhub"))
    policies.import_policies(world.ctx, doc(ROWS))
    document = policies.export_policies(world.ctx)
    for fmt in ("json", "yaml"):
        text = policies.dump_document(document, fmt)
        again = policies.import_policies(world.ctx, policies.load_document(text, fmt), dry_run=True)
        assert (again.created, again.updated, again.deleted) == ((), (), ())


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("{", "json"), ("a: [", "yaml"), (b"\xff\xfe", "json"),
     ('{"version": ' + "9" * 5000 + "}", "json"), ("version: " + "9" * 5000, "yaml")],
)  # fmt: skip
def test_unreadable_documents_are_invalid_input(text: Any, fmt: Any) -> None:
    with pytest.raises(InvalidInputError):
        policies.load_document(text, fmt)


@pytest.mark.parametrize(
    ("document", "shown"),
    [
        ({"version": 99, "policies": []}, "document version 99 is not supported"),
        ({"version": 99, "policies": ROWS}, "document version 99 is not supported"),
        ({"policies": ROWS}, "the document has no 'version'"),
        ({"version": True, "policies": ROWS}, "document version True"),
        ({"version": "1", "policies": ROWS}, "document version '1'"),
        ({"version": 1.0, "policies": ROWS}, "document version 1.0"),
    ],
)
def test_a_document_of_no_or_an_unknown_version_is_refused_and_changes_nothing(
    document: dict[str, Any], shown: str
) -> None:
    world = world_with_sets((CONTOSO, "dockerhub"), (FABRIKAM, "dockerhub"))
    policies.import_policies(world.ctx, doc(ROWS))
    before = world.policies.list_policies()
    for dry_run in (True, False):
        with pytest.raises(UnsupportedDocumentVersionError) as caught:
            policies.import_policies(world.ctx, document, dry_run=dry_run)
        assert shown in caught.value.message
        assert "supported versions: 1" in caught.value.message
        assert caught.value.supported == (1,)
    assert world.policies.list_policies() == before


def test_replacing_the_rows_with_nothing_needs_allow_empty() -> None:
    world = world_with_sets((CONTOSO, "dockerhub"), (FABRIKAM, "dockerhub"))
    policies.import_policies(world.ctx, doc(ROWS))
    before = world.policies.list_policies()
    for document in (doc([]), doc(ROWS, pullPolicies=[])):
        with pytest.raises(EmptyImportError, match="allow_empty=true"):
            policies.import_policies(world.ctx, document)
    assert world.policies.list_policies() == before
    dry = policies.import_policies(world.ctx, doc([]), dry_run=True, allow_empty=True)
    assert (dry.deleted, world.policies.list_policies()) == (("hub", "hub-deny", "mcr"), before)
    emptied = policies.import_policies(world.ctx, doc([]), allow_empty=True)
    assert emptied.deleted == ("hub", "hub-deny", "mcr")
    assert world.policies.list_policies() == []
    assert policies.export_policies(world.ctx) == {"version": 1, "policies": []}
