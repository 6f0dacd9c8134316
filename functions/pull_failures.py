"""Pull failures reported by Azure Monitor (the `cachekeeper.PullFailed` CloudEvent arrives through
functions/events.py).

POST /api/alerts/pull-failures takes the common alert schema of a log-search alert on
ContainerRegistryRepositoryEvents split by Repository (the action group's webhook).
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions._http import guarded, json_response, read_json

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("pull_failure_alert")
@bp.route(route="alerts/pull-failures", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def pull_failure_alert(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.observability import record_reaction
        from shared.services.reactions import react_to_alert

        reactions = react_to_alert(read_json(req), context())
        for reaction in reactions:
            record_reaction(log, event_type="AzureMonitor.Alert", event_id=None, reaction=reaction)
        return json_response({"reactions": [r.to_dict() for r in reactions]}, status_code=202)

    return guarded(handle, req)
