"""The Azure Functions entry point: one FunctionApp, one blueprint per trigger family.

The worker imports this module to index the functions, so it stays cheap: blueprints import only
`azure.functions` and our own light modules; SDKs load on first use (see shared/bootstrap.py).
Settings are validated here so that a bad or missing one stops start-up with a message naming it.
"""

import azure.functions as func

from functions.audit import bp as audit_bp
from functions.credential_sets import bp as credential_sets_bp
from functions.dashboard import bp as dashboard_bp
from functions.events import bp as events_bp
from functions.health import bp as health_bp
from functions.openapi import bp as openapi_bp
from functions.policies import bp as policies_bp
from functions.pull_failures import bp as pull_failures_bp
from functions.repositories import bp as repositories_bp
from shared.bootstrap import settings
from shared.observability import configure_telemetry

settings()
configure_telemetry()  # no-op, and no SDK import, unless APPLICATIONINSIGHTS_CONNECTION_STRING is set

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health_bp)
app.register_functions(events_bp)
app.register_functions(credential_sets_bp)
app.register_functions(pull_failures_bp)
app.register_functions(policies_bp)
app.register_functions(repositories_bp)
app.register_functions(audit_bp)
app.register_functions(dashboard_bp)
app.register_functions(openapi_bp)
