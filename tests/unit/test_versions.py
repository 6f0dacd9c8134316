"""Version order with whole-second timestamps, broken by the rotation events that announced them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.models import SecretVersion
from shared.domain.secrets import SecretRef
from shared.domain.versions import is_newer, latest, newest_usable

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SECRET = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-token")
SECOND = NOW - timedelta(hours=1)


def version(n: int, *, created: datetime = SECOND, enabled: bool = True) -> SecretVersion:
    return SecretVersion(SECRET.with_version(f"{n:032x}"), enabled, created, created)


OLD, A, B = version(1, created=SECOND - timedelta(days=1)), version(0xB), version(0xA)


def test_a_single_newest_second_needs_no_announcement() -> None:
    assert latest([OLD, A]).version == A
    assert newest_usable([OLD, A], NOW).version == A


def test_a_tie_is_ambiguous_until_every_tied_version_was_announced() -> None:
    choice = newest_usable([OLD, A, B], NOW)
    assert choice.version is None and choice.ambiguous and set(choice.tied) == {A, B}
    only_one = {B.version: NOW}
    assert newest_usable([OLD, A, B], NOW, only_one).ambiguous  # A may have come later
    told = {A.version: NOW - timedelta(milliseconds=300), B.version: NOW}
    assert newest_usable([OLD, A, B], NOW, told).version == B  # whatever the ids say
    same_time = {A.version: NOW, B.version: NOW}
    assert newest_usable([OLD, A, B], NOW, same_time).ambiguous


def test_the_latest_counts_disabled_versions_and_the_newest_usable_does_not() -> None:
    disabled = version(0xC, created=SECOND + timedelta(seconds=1), enabled=False)
    assert latest([OLD, A, disabled]).version == disabled
    assert newest_usable([OLD, A, disabled], NOW).version == A


def test_is_newer_knows_only_what_seconds_and_announcements_tell() -> None:
    assert is_newer(A, OLD) is True and is_newer(OLD, A) is False
    assert is_newer(A, A) is False
    assert is_newer(A, B) is None
    told = {A.version: NOW, B.version: NOW - timedelta(milliseconds=1)}
    assert is_newer(A, B, told) is True and is_newer(B, A, told) is False
