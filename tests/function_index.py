"""The app's functions as the worker indexes them, computed once per test session.

`FunctionApp.get_functions()` may run only once per app object (a second call reports every name
as a duplicate), exactly like the worker, which indexes once.
"""

from __future__ import annotations

from functools import cache

import azure.functions as func


@cache
def indexed_functions() -> dict[str, func.Function]:
    """Function name -> Function, from function_app's app."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}
