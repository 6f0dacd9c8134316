"""schemathesis checks for the admin API (loaded with SCHEMATHESIS_HOOKS=tests.soak.schemathesis_hooks).

`no_stack_trace`: no response, whatever its status, carries a Python traceback, a source path or
an exception repr: errors are problem+json with a message written for people.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis

_LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|site-packages|"
    r"/work/|\b[A-Z]\w+Error\(|azure\.core\.exceptions",
)


@schemathesis.check
def no_stack_trace(ctx: Any, response: Any, case: Any) -> bool | None:
    """Fail when the response body looks like a stack trace or an internal exception."""
    text = response.text or ""
    found = _LEAKS.search(text)
    if found is not None:
        raise AssertionError(f"the response leaks internals: {found.group(0)!r}")
    return None
