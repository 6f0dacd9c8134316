from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError, InvalidSecretUriError

VERSION = "0123456789abcdef0123456789abcdef"


def test_versionless_uri() -> None:
    ref = SecretRef.parse("https://myvault.vault.azure.net/secrets/username")
    assert (ref.vault_name, ref.name, ref.version) == ("myvault", "username", None)
    assert ref.vault_url == "https://myvault.vault.azure.net"
    assert not ref.is_versioned
    assert str(ref) == "https://myvault.vault.azure.net/secrets/username"


def test_versioned_uri_is_normalised_to_lower_case() -> None:
    ref = SecretRef.parse(f"https://MyVault.vault.azure.net/secrets/Docker-Token/{VERSION.upper()}")
    assert ref.version == VERSION
    assert str(ref) == f"https://myvault.vault.azure.net/secrets/docker-token/{VERSION}"
    assert ref.versionless() == SecretRef.parse(
        "https://myvault.vault.azure.net/secrets/docker-token"
    )
    assert ref.same_secret(ref.versionless())


@pytest.mark.parametrize(
    "suffix",
    ["vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net", "vault.microsoftazure.de"],
)
def test_sovereign_cloud_suffixes_are_accepted(suffix: str) -> None:
    ref = SecretRef.parse(f"https://kv-cache.{suffix}/secrets/token")
    assert ref.vault_url == f"https://kv-cache.{suffix}"


def test_trailing_slash_and_port_443_are_tolerated() -> None:
    assert SecretRef.parse(
        "https://kv-cache.vault.azure.net:443/secrets/token/"
    ) == SecretRef.parse("https://kv-cache.vault.azure.net/secrets/token")


@pytest.mark.parametrize(
    "text",
    [
        "http://kv-cache.vault.azure.net/secrets/token",
        "https://kv-cache.vault.azure.net/keys/token",
        "https://kv-cache.vault.azure.net/secrets/",
        "https://kv-cache.example.com/secrets/token",
        "https://kv-cache.vault.azure.net.evil.com/secrets/token",
        "https://evil.com/kv-cache.vault.azure.net/secrets/token",
        "https://kv.vault.azure.net/secrets/token",
        "https://kv--cache.vault.azure.net/secrets/token",
        "https://kv-cache.vault.azure.net/secrets/to_ken",
        "https://kv-cache.vault.azure.net/secrets/token/not-a-version",
        "https://kv-cache.vault.azure.net/secrets/token/v/extra",
        "https://user@kv-cache.vault.azure.net/secrets/token",
        "https://kv-cache.vault.azure.net/secrets/token?api-version=7.4",
    ],
)
def test_anything_but_a_key_vault_secret_uri_is_refused(text: str) -> None:
    with pytest.raises(InvalidSecretUriError):
        SecretRef.parse(text)


def test_with_version_checks_the_version() -> None:
    ref = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/token")
    assert ref.with_version(VERSION).version == VERSION
    with pytest.raises(InvalidSecretUriError):
        ref.with_version("v2")


@given(st.text(max_size=200))
def test_parsing_arbitrary_text_never_crashes(text: str) -> None:
    try:
        SecretRef.parse(text)
    except InvalidInputError:
        pass


@given(
    vault=st.from_regex(r"[a-z][a-z0-9]{1,20}[a-z0-9]", fullmatch=True),
    name=st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
    version=st.one_of(st.none(), st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
)
def test_valid_uris_round_trip(vault: str, name: str, version: str | None) -> None:
    text = f"https://{vault}.vault.azure.net/secrets/{name}" + (f"/{version}" if version else "")
    ref = SecretRef.parse(text)
    assert str(ref) == text
    assert SecretRef.parse(str(ref)) == ref
