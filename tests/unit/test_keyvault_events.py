from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope
from shared.signals.keyvault import KeyVaultEventKind, parse_keyvault_signal
from tests.conftest import EVENTS, load_event

FIXTURES = sorted(p.name for p in EVENTS.glob("keyvault.*.json"))


@pytest.mark.parametrize("name", FIXTURES)
def test_every_reference_event_parses(name: str) -> None:
    signal = parse_keyvault_signal(Envelope.from_dict(load_event(name)))  # type: ignore[arg-type]
    assert signal.event_id == "00eccf70-95a7-4e7c-8299-2eb17ee9ad64"
    assert signal.vault_name == "sample-kv"
    assert signal.secret is not None
    assert signal.secret.name == "newsecret"
    assert signal.secret.version == "ee059b2bb5bc48398a53b168c6cdcb10"
    assert signal.not_before == datetime.fromtimestamp(1559081980, tz=UTC)
    assert signal.expires == datetime.fromtimestamp(1559082102, tz=UTC)
    assert signal.time is not None and signal.time.year == 2019
    # the reference topic has a "{subscription-id}" placeholder: readable, but not a vault id
    assert signal.vault is None


def test_both_schemas_give_the_same_signal() -> None:
    grid = parse_keyvault_signal(
        Envelope.from_dict(load_event("keyvault.SecretNewVersionCreated.eventgrid.json"))
    )  # type: ignore[arg-type]
    cloud = parse_keyvault_signal(
        Envelope.from_dict(load_event("keyvault.SecretNewVersionCreated.cloudevents.json"))
    )  # type: ignore[arg-type]
    assert grid == cloud
    assert grid.kind is KeyVaultEventKind.SECRET_NEW_VERSION


VAULT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cache"


def event(**data: Any) -> dict[str, Any]:
    body = {"Id": "https://kv-cache.vault.azure.net/secrets/hub-token/0123456789abcdef0123456789abcdef", "VaultName": "kv-cache",
            "ObjectType": "Secret", "ObjectName": "hub-token", "Version": "0123456789abcdef0123456789abcdef", "NBF": None, "EXP": None}  # fmt: skip
    body.update(data)
    return {"id": "e1", "topic": VAULT, "subject": "hub-token", "eventType": KeyVaultEventKind.SECRET_NEW_VERSION.value,
            "eventTime": "2026-11-23T10:00:00.1234567Z", "data": body, "dataVersion": "1"}  # fmt: skip


def test_camel_case_whitespace_and_number_forms_are_accepted() -> None:
    raw = event()
    raw["data"] = {" id": " https://kv-cache.vault.azure.net/secrets/hub-token/0123456789abcdef0123456789abcdef ",
                   "objectName ": "hub-token", "version": " 0123456789abcdef0123456789abcdef", "nbf": 1700000000, "exp": "1800000000"}  # fmt: skip
    signal = parse_keyvault_signal(Envelope.from_dict(raw))
    assert signal.vault is not None and signal.vault.name == "kv-cache"
    assert signal.not_before == datetime.fromtimestamp(1700000000, tz=UTC)
    assert signal.expires == datetime.fromtimestamp(1800000000, tz=UTC)
    assert signal.vault_name == "kv-cache"


def test_access_policy_events_carry_no_secret() -> None:
    raw = event()
    raw["eventType"] = KeyVaultEventKind.ACCESS_POLICY_CHANGED.value
    raw["data"] = {
        "Id": None,
        "VaultName": "kv-cache",
        "ObjectType": "Vault",
        "ObjectName": "kv-cache",
    }
    signal = parse_keyvault_signal(Envelope.from_dict(raw))
    assert signal.secret is None and signal.kind is KeyVaultEventKind.ACCESS_POLICY_CHANGED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Id": None}, "no data.Id"),
        ({"Id": "https://evil.example.com/secrets/x"}, "not a secret URI"),
        ({"Version": "ffffffffffffffffffffffffffffffff"}, "does not match"),
        ({"NBF": "soon"}, "NBF"),
        ({"EXP": float("inf")}, "EXP"),
        ({"ObjectType": "Key"}, "not Secret"),
    ],
)
def test_malformed_data_is_a_typed_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_keyvault_signal(Envelope.from_dict(event(**change)))


def test_unknown_types_and_missing_ids_are_refused() -> None:
    raw = event()
    raw["eventType"] = "Microsoft.Storage.BlobCreated"
    with pytest.raises(InvalidEventError, match="not a Key Vault event"):
        parse_keyvault_signal(Envelope.from_dict(raw))
    raw = event()
    del raw["id"]
    with pytest.raises(InvalidEventError, match="no id"):
        Envelope.from_dict(raw)
    with pytest.raises(InvalidEventError):
        Envelope.from_dict([])  # type: ignore[arg-type]


def test_payload_hash_changes_with_the_payload_only() -> None:
    first = Envelope.from_dict(event())
    again = Envelope.from_dict(event())
    other = Envelope.from_dict(event(EXP=1800000000))
    assert first.payload_hash == again.payload_hash != other.payload_hash


_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "topic",
                "source",
                "eventType",
                "type",
                "specversion",
                "subject",
                "eventTime",
                "time",
                "data",
            ]
        ),
        _json,
    )
)
def test_arbitrary_envelopes_only_raise_typed_errors(raw: dict[str, Any]) -> None:
    try:
        parse_keyvault_signal(Envelope.from_dict(raw))
    except InvalidInputError:
        pass


@given(
    st.dictionaries(
        st.sampled_from(["Id", "id", "VaultName", "ObjectType", "Version", "NBF", "EXP", "nbf"]),
        _json,
    )
)
def test_arbitrary_data_only_raises_typed_errors(data: dict[str, Any]) -> None:
    raw = event()
    raw["data"] = data
    try:
        parse_keyvault_signal(Envelope.from_dict(raw))
    except InvalidInputError:
        pass
