"""The app's functions as the worker indexes them, computed once per test session.

`FunctionApp.get_functions()` may run only once per app object (a second call reports every name
as a duplicate), exactly like the worker, which indexes once.
"""

from __future__ import annotations

import threading
import uuid
from functools import cache

import azure.functions as func

from devhost.app_index import InvocationContext


@cache
def indexed_functions() -> dict[str, func.Function]:
    """Function name -> Function, from function_app's app."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


def invocation(name: str, invocation_id: str | None = None) -> InvocationContext:
    """The `context` the worker passes function `name` (a fresh invocation id unless given)."""
    return InvocationContext(
        function_name=name,
        invocation_id=invocation_id or str(uuid.uuid4()),
        thread_local_storage=threading.local(),
    )
