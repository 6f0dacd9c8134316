"""Reading one setting's value: text, a choice, a boolean, a bounded whole number, a list, a
GUID; each refusal names the setting and the fix (ConfigurationError). Used by shared/settings.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import ConfigurationError

__all__ = [
    "bool_setting",
    "choice_setting",
    "guid_setting",
    "int_setting",
    "split_list",
    "text_setting",
]

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def text_setting(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def choice_setting(
    env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str
) -> str:
    value = (text_setting(env, name) or default).lower()
    if value not in allowed:
        raise ConfigurationError(
            name, f"{value!r} is not one of {', '.join(allowed)}", f"set {name} to one of them"
        )
    return value


def bool_setting(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(name, f"{raw!r} is not a boolean", f"set {name} to true or false")


def int_setting(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = text_setting(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigurationError(
            name,
            f"{raw!r} is not a whole number from {low} to {high}",
            f"set {name} to e.g. {default}",
        )
    return value


def split_list(raw: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", raw.strip(), flags=re.ASCII) if part]


def guid_setting(env: Mapping[str, str], name: str, fix: str) -> str | None:
    value = text_setting(env, name)
    if value is not None and not _GUID.fullmatch(value):
        raise ConfigurationError(name, f"{value!r} is not a GUID", fix)
    return value
