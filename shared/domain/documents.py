"""Documents from outside (admin request bodies, policy imports): JSON or YAML read within limits.

Python's parsers fail on hostile input with errors no caller expects: a document nested deeper
than the recursion limit raises RecursionError, an integer over 4,300 digits ValueError, and a
`\\ud800` escape parses into a string that cannot be encoded again (UnicodeEncodeError on the
way to Table Storage or a log). Every document is read here instead, and anything beyond the
limits is an InvalidDocumentError (a 400) or a PayloadTooLargeError (a 413), before anything is
looked at:

- at most `max_bytes` bytes (MAX_DOCUMENT_BYTES unless the caller says);
- UTF-8 (JSON, RFC 8259 §8.1); YAML as PyYAML's safe loader reads it (UTF-8 or UTF-16);
- nesting at most MAX_DEPTH arrays/objects deep, at most MAX_NODES values in all (a YAML alias
  counts again wherever it is used, so an alias bomb is refused);
- integers of at most MAX_INTEGER_DIGITS digits, finite numbers only (no NaN, Infinity, 1e400);
- no lone surrogate (a `\\udXXX` escape without its pair) in any string or key. PyYAML reads
  each half of a `\\ud83d\\ude42` pair alone, so YAML writes such characters as `\\U0001F642`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from shared.errors import InvalidDocumentError, PayloadTooLargeError

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_INTEGER_DIGITS",
    "MAX_NODES",
    "DocumentFormat",
    "check_limits",
    "encodable",
    "escaped",
    "load_document",
    "load_json",
    "load_yaml",
]

DocumentFormat = Literal["json", "yaml"]
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 64  # the deepest document the product reads (an alert) is under 10 deep
MAX_NODES = 250_000  # a full policy table (2,000 rows) is about 50,000
MAX_INTEGER_DIGITS = 100  # no field takes more than a 64-bit number; Python refuses over 4,300
_INTEGER_BOUND = 10**MAX_INTEGER_DIGITS


def encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escaped(text: str) -> str:
    """`text` with any lone surrogate written as its escape (`\\ud800`): writable anywhere, for
    naming what was refused."""
    return text if encodable(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def load_document(
    text: str | bytes, fmt: DocumentFormat = "json", *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> Any:
    """Read a JSON or YAML document within the limits (module docstring)."""
    if fmt == "yaml":
        return load_yaml(text, max_bytes=max_bytes)
    return load_json(text, max_bytes=max_bytes)


def load_json(text: str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read a JSON document within the limits; an empty one is null."""
    _check_size(text, max_bytes)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidDocumentError("the document is not valid JSON (not UTF-8)") from None
    if not text.strip():
        return None
    try:
        document = json.loads(
            text, parse_int=_integer, parse_float=_finite, parse_constant=_no_constant
        )
    except json.JSONDecodeError as exc:
        raise InvalidDocumentError(f"the document is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise _too_deep() from None
    check_limits(document)
    return document


def load_yaml(text: str | bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read a YAML document (PyYAML's safe loader: plain data only) within the limits."""
    import yaml  # lazily: only YAML imports need it

    _check_size(text, max_bytes)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidDocumentError(f"the document is not valid YAML{where}") from None
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, OverflowError):  # a value its constructor cannot build (a huge integer,
        # a timestamp with a month 13)
        raise InvalidDocumentError("the document holds a value that cannot be read") from None
    check_limits(document)
    return document


def _check_size(text: str | bytes, max_bytes: int) -> None:
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise PayloadTooLargeError(f"the document is larger than {max_bytes} bytes")


def _too_deep() -> InvalidDocumentError:
    return InvalidDocumentError(f"the document is nested more than {MAX_DEPTH} levels deep")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise InvalidDocumentError(
            f"the document holds an integer over {MAX_INTEGER_DIGITS} digits"
        )
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidDocumentError(f"the document holds a number out of range ({text[:20]})")
    return value


def _no_constant(text: str) -> Any:
    raise InvalidDocumentError(f"the document is not valid JSON ({text} is not a JSON value)")


def check_limits(document: Any) -> None:
    """Check a parsed document (one read here, or an event the Functions worker parsed) against
    the limits: depth, number of values, numbers and strings; the error names where (`data.EXP`).
    Iterative: hostile input cannot exhaust the stack."""
    pending: list[tuple[Any, int, tuple[Any, ...]]] = [(document, 0, ())]
    seen = 0
    while pending:
        value, depth, path = pending.pop()
        seen += 1
        if seen > MAX_NODES:
            raise InvalidDocumentError(f"the document holds more than {MAX_NODES} values")
        if isinstance(value, Mapping | list | tuple | set | frozenset):
            if depth >= MAX_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if isinstance(value, Mapping):
                    _check_scalar(key, (*path, "<key>"))
                pending.append((item, depth + 1, (*path, key)))
        else:
            _check_scalar(value, path)


def _where(path: tuple[Any, ...]) -> str:
    text = "".join(f"[{k}]" if isinstance(k, int) else f".{escaped(str(k))[:40]}" for k in path)
    return f" at {text.lstrip('.')}" if text else ""


def _check_scalar(value: Any, path: tuple[Any, ...]) -> None:
    if isinstance(value, str) and not encodable(value):
        raise InvalidDocumentError(f"the document holds a lone surrogate{_where(path)} (a \\ud800-\\udfff escape without its pair; "
                                   "YAML reads each half alone: write \\U0001F642, not \\ud83d\\ude42)")  # fmt: skip
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) >= _INTEGER_BOUND:
        raise InvalidDocumentError(
            f"the document holds an integer over {MAX_INTEGER_DIGITS} digits{_where(path)}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidDocumentError(f"the document holds a number that is not finite{_where(path)}")
