"""Read `local.settings.json` the way `func start` does and copy its `Values` into the environment."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LocalSettings",
    "SettingsFileError",
    "apply_values",
    "default_settings_path",
    "load_settings_file",
]


class SettingsFileError(ValueError):
    """The settings file is missing, not JSON, or not shaped like local.settings.json."""


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """The parts of local.settings.json the host uses."""

    values: dict[str, str]
    local_http_port: int | None = None


def default_settings_path(directory: Path) -> Path | None:
    """`local.settings.json` if it exists, else `local.settings.example.json`, else None."""
    for name in ("local.settings.json", "local.settings.example.json"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def load_settings_file(path: Path) -> LocalSettings:
    """Parse a local.settings.json file; raise SettingsFileError saying what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SettingsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsFileError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(document, dict):
        raise SettingsFileError(f"{path}: the top level must be a JSON object")
    if document.get("IsEncrypted") is True:
        raise SettingsFileError(f"{path}: encrypted settings are not supported; decrypt them first")
    raw_values = document.get("Values", {})
    if not isinstance(raw_values, dict):
        raise SettingsFileError(f"{path}: 'Values' must be an object of strings")
    values = {name: _as_text(path, name, value) for name, value in raw_values.items()}
    return LocalSettings(values=values, local_http_port=_port(path, document.get("Host")))


def apply_values(values: dict[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Set each value not already in `environ` (the environment wins); return the names set."""
    applied = []
    for name, value in values.items():
        if name not in environ:
            environ[name] = value
            applied.append(name)
    return applied


def _as_text(path: Path, name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    # Core Tools reads Values as strings; numbers and booleans there are a common slip, so they
    # are accepted the way the JSON spells them.
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise SettingsFileError(f"{path}: Values.{name} must be a string")


def _port(path: Path, host: object) -> int | None:
    if not isinstance(host, dict) or "LocalHttpPort" not in host:
        return None
    port = host["LocalHttpPort"]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise SettingsFileError(f"{path}: Host.LocalHttpPort must be a port number")
    return port
