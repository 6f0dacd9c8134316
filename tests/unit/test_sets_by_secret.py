"""`sets_by_secret`: each secret's users in one lookup, whatever the versions the sets pin."""

from __future__ import annotations

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, sets_by_secret
from shared.domain.secrets import SecretRef

_REG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"
_V = "0123456789abcdef0123456789abcdef"


def _set(name: str, user: str, password: str) -> CredentialSet:
    return CredentialSet(
        ResourceId.parse(f"{_REG}/credentialSets/{name}"),
        "docker.io",
        SecretRef.parse(user),
        SecretRef.parse(password),
    )


def test_index_matches_a_scan_of_every_set() -> None:
    kv = "https://kv-test.vault.azure.net/secrets"
    sets = [
        _set("a", f"{kv}/u1", f"{kv}/p1/{_V}"),
        _set("b", f"{kv}/p1", f"{kv}/p1/{_V}"),  # the same secret twice: listed once
        _set("c", f"{kv}/u2", f"{kv}/p2"),
    ]
    index = sets_by_secret(sets)
    for ref in {r.versionless() for c in sets for r in (c.username, c.password)}:
        assert index[ref] == tuple(c for c in sets if c.references(ref))
    assert index[SecretRef.parse(f"{kv}/p1")] == (sets[0], sets[1])
    assert SecretRef.parse(f"{kv}/nobody") not in index
