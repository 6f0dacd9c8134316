"""TablePolicyStore against Azurite: round trips, ETags, imports in batches, corrupted rows."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from azure.data.tables import TableServiceClient

from shared.adapters.tables import TablePolicyStore
from shared.domain.policies import Policy, PolicyAction, RuleKind
from shared.domain.repositories import Upstream
from shared.errors import ConcurrencyError, InvalidPolicyError, NotFoundError
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    policy_store_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite


def make_policy(policy_id: str, **fields: object) -> Policy:
    data: dict[str, object] = {
        "id": policy_id,
        "upstream": f"ghcr.io/{policy_id.lower()}/*",
        "action": "allow",
        "targetTemplate": f"{policy_id.lower()}/{{path}}",
    }
    data.update(fields)
    return Policy.from_dict(data)


def test_a_policy_round_trips_with_every_field(policy_store: TablePolicyStore) -> None:
    policy = Policy.from_dict(
        {
            "id": "hub-library",
            "upstream": "docker.io/library/*",
            "action": "allow",
            "registry": "contosocache",
            "targetTemplate": "hub/{path}",
            "ruleKind": "wildcard",
            "credentialSet": "dockerhub",
            "priority": 7,
            "enabled": False,
            "description": "Docker Hub official images — ünïcode too",
            "changedBy": "ops@example.com",
            "changedAt": "2026-11-23T10:15:30.123456+02:00",
        }
    )
    stored = policy_store.put_policy(policy)
    read = policy_store.get_policy("hub-library")
    assert read.policy == policy
    assert read.policy.to_dict() == policy.to_dict()  # same offset, not just the same instant
    assert read.etag == stored.etag and read.etag
    assert read.policy.rule_kind is RuleKind.WILDCARD and read.policy.enabled is False


def test_optional_fields_come_back_as_none(policy_store: TablePolicyStore) -> None:
    policy = Policy("deny-all", Upstream.parse("quay.io/*", allow_wildcard=True), PolicyAction.DENY)
    policy_store.put_policy(policy)
    assert policy_store.get_policy("deny-all").policy == policy


def test_policies_are_listed_in_id_order(policy_store: TablePolicyStore) -> None:
    ids = ["b-team", "a-team", "C-team", "a.team", "z9"]
    for policy_id in random.sample(ids, len(ids)):
        policy_store.put_policy(make_policy(policy_id))
    assert [row.policy.id for row in policy_store.list_policies()] == sorted(ids)


def test_put_with_a_stale_etag_is_refused(policy_store: TablePolicyStore) -> None:
    first = policy_store.put_policy(make_policy("acme"))
    second = policy_store.put_policy(make_policy("acme", priority=5), if_match=first.etag)
    assert second.etag != first.etag
    with pytest.raises(ConcurrencyError):
        policy_store.put_policy(make_policy("acme", priority=9), if_match=first.etag)
    assert policy_store.get_policy("acme").policy.priority == 5
    with pytest.raises(ConcurrencyError):
        policy_store.put_policy(make_policy("acme"), if_match="")
    with pytest.raises(ConcurrencyError):  # deleted since it was read counts as changed
        policy_store.put_policy(make_policy("ghost"), if_match=first.etag)


def test_delete_checks_the_etag_and_reports_missing_rows(policy_store: TablePolicyStore) -> None:
    first = policy_store.put_policy(make_policy("acme"))
    current = policy_store.put_policy(make_policy("acme", priority=5))
    with pytest.raises(ConcurrencyError):
        policy_store.delete_policy("acme", if_match=first.etag)
    assert policy_store.get_policy("acme").etag == current.etag
    policy_store.delete_policy("acme", if_match=current.etag)
    with pytest.raises(NotFoundError):
        policy_store.get_policy("acme")
    with pytest.raises(NotFoundError):
        policy_store.delete_policy("acme")
    with pytest.raises(NotFoundError):
        policy_store.delete_policy("acme", if_match=current.etag)
    policy_store.put_policy(make_policy("other"))
    policy_store.delete_policy("other")
    assert policy_store.list_policies() == []


def test_ids_a_table_cannot_hold_are_simply_absent(policy_store: TablePolicyStore) -> None:
    for bad in ("a/b", "a#b", "a?b", "a\\b", "", "a\x00b"):
        with pytest.raises(NotFoundError):
            policy_store.get_policy(bad)
        with pytest.raises(NotFoundError):
            policy_store.delete_policy(bad)


def test_replace_all_adds_replaces_and_removes_across_batches(
    policy_store: TablePolicyStore,
) -> None:
    old = [make_policy(f"p{i:03d}") for i in range(150)]
    policy_store.replace_all(old)
    assert len(policy_store.list_policies()) == 150
    kept = [replace(p, priority=1) for p in old[:90]]  # replaced
    added = [make_policy(f"q{i:03d}") for i in range(40)]  # new; p090..p149 go away
    policy_store.replace_all(added + kept)
    rows = policy_store.list_policies()
    assert [row.policy for row in rows] == sorted(kept + added, key=lambda p: p.id)
    policy_store.replace_all([])
    assert policy_store.list_policies() == []


def test_replace_all_validates_everything_before_writing(policy_store: TablePolicyStore) -> None:
    policy_store.replace_all([make_policy("keep")])
    broken = replace(make_policy("bad"), target_template=None)  # an allow row needs a target
    with pytest.raises(InvalidPolicyError):
        policy_store.replace_all([make_policy("new"), broken])
    assert [row.policy.id for row in policy_store.list_policies()] == ["keep"]


def test_the_last_row_wins_when_an_import_repeats_an_id(policy_store: TablePolicyStore) -> None:
    policy_store.replace_all([make_policy("dup", priority=1), make_policy("dup", priority=2)])
    assert [row.policy.priority for row in policy_store.list_policies()] == [2]


def test_a_hand_corrupted_row_is_skipped_with_a_warning(
    policy_store: TablePolicyStore,
    service: TableServiceClient,
    table: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy_store.put_policy(make_policy("good"))
    raw = service.get_table_client(table)
    raw.upsert_entity(
        {"PartitionKey": "policy", "RowKey": "broken", "upstream": "ghcr.io/x", "action": "maybe"}
    )
    raw.upsert_entity(
        {**raw.get_entity("policy", "good"), "RowKey": "typo", "priorty": 3}  # unknown column
    )
    with caplog.at_level(logging.WARNING, logger="shared.adapters.tables"):
        rows = policy_store.list_policies()
    assert [row.policy.id for row in rows] == ["good"]
    assert "'broken'" in caplog.text and "'typo'" in caplog.text
    with pytest.raises(InvalidPolicyError):
        policy_store.get_policy("broken")
    policy_store.replace_all([make_policy("good")])  # an import cleans corrupted rows up
    assert [e["RowKey"] for e in raw.list_entities()] == ["good"]


def test_changed_at_keeps_its_time_zone(policy_store: TablePolicyStore) -> None:
    moment = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    policy = replace(make_policy("tz"), changed_at=moment, changed_by="ci")
    policy_store.put_policy(policy)
    read = policy_store.get_policy("tz").policy
    assert read.changed_at == moment.astimezone(UTC)
    assert read.changed_at is not None and read.changed_at.utcoffset() == timedelta(hours=-5)
