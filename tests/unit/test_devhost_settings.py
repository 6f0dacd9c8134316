"""The local host's settings file loader and timer schedule placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.settings_file import (
    SettingsFileError,
    apply_values,
    default_settings_path,
    load_settings_file,
)
from devhost.timers import ScheduleError, resolve_schedule


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_values_and_port_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "local.settings.json",
        {"IsEncrypted": False, "Values": {"A": "1", "B": "x=y"}, "Host": {"LocalHttpPort": 7072}},
    )
    loaded = load_settings_file(path)
    assert loaded.values == {"A": "1", "B": "x=y"}
    assert loaded.local_http_port == 7072


def test_numbers_and_booleans_become_their_json_text(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", {"Values": {"N": 30, "B": False}})
    assert load_settings_file(path).values == {"N": "30", "B": "false"}


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('\ufeff{"Values": {"A": "1"}}', encoding="utf-8")
    assert load_settings_file(path).values == {"A": "1"}


def test_no_values_section_means_no_values(tmp_path: Path) -> None:
    assert load_settings_file(write(tmp_path / "s.json", {"IsEncrypted": False})).values == {}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "top level"),
        ({"Values": ["A"]}, "'Values' must be an object"),
        ({"Values": {"A": {"nested": 1}}}, "Values.A must be a string"),
        ({"Values": {"A": None}}, "Values.A must be a string"),
        ({"IsEncrypted": True, "Values": {}}, "encrypted"),
        ({"Host": {"LocalHttpPort": "7071"}}, "LocalHttpPort"),
        ({"Host": {"LocalHttpPort": 70000}}, "LocalHttpPort"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path: Path, document: object, reason: str) -> None:
    with pytest.raises(SettingsFileError, match=reason):
        load_settings_file(write(tmp_path / "s.json", document))


def test_invalid_json_is_reported_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsFileError, match=r"s\.json: not readable JSON"):
        load_settings_file(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsFileError, match="no such file"):
        load_settings_file(tmp_path / "absent.json")


def test_the_environment_wins_over_the_file() -> None:
    environ = {"A": "from-env"}
    applied = apply_values({"A": "from-file", "B": "2"}, environ)
    assert environ == {"A": "from-env", "B": "2"}
    assert applied == ["B"]


def test_default_path_prefers_the_real_file(tmp_path: Path) -> None:
    assert default_settings_path(tmp_path) is None
    example = write(tmp_path / "local.settings.example.json", {})
    assert default_settings_path(tmp_path) == example
    real = write(tmp_path / "local.settings.json", {})
    assert default_settings_path(tmp_path) == real


def test_schedule_placeholders_resolve_from_the_environment() -> None:
    assert resolve_schedule("%EVERY%", {"EVERY": " */5 * * * * * "}) == "*/5 * * * * *"
    assert resolve_schedule("0 0 * * * *", {}) == "0 0 * * * *"


@pytest.mark.parametrize("schedule", ["%MISSING%", "%BLANK%", "%%"])
def test_unresolvable_placeholders_stop_start_up(schedule: str) -> None:
    with pytest.raises(ScheduleError, match="not set"):
        resolve_schedule(schedule, {"BLANK": "  "})
