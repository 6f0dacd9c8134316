"""The Azure Functions entry point: one FunctionApp and the blueprints of `functions/`.

The worker imports this module to index the functions, so it stays cheap: blueprints import only
`azure.functions` and our own light modules; SDKs load on first use (see shared/bootstrap.py).
Settings are validated here so that a bad or missing one stops start-up with a message naming it.
Which trigger lives in which blueprint is one rule, written down in `functions/__init__.py`.
"""

import azure.functions as func

from functions import blueprints
from shared.bootstrap import settings
from shared.log_context import configure_logging
from shared.observability import configure_telemetry

settings()
configure_logging()  # Azure SDK loggers at WARNING; records carry the invocation's ids
configure_telemetry()  # no-op, and no SDK import, unless APPLICATIONINSIGHTS_CONNECTION_STRING is set

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in blueprints():
    app.register_functions(blueprint)
