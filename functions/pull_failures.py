"""Pull failures reported by an Azure Monitor alert (the `cachekeeper.PullFailed` CloudEvent arrives
through functions/events.py).

POST /api/alerts/pull-failures takes the common alert schema of a log-search alert on
ContainerRegistryRepositoryEvents split by Repository (the action group's webhook).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions._http import json_response, read_json
from functions._responses import ALERT_REACTIONS
from functions._routes import Op, admin_route
from functions._schemas import ANY_OBJECT

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
log = logging.getLogger(__name__)


@admin_route(
    bp,
    "alerts/pull-failures",
    name="pull_failure_alert",
    post=Op(
        "Azure Monitor alert (common alert schema) about failing pulls",
        schema=ALERT_REACTIONS,
        request=ANY_OBJECT,
        request_required=True,
        responses={"202": "the reactions", "400": "not an alert"},
    ),
)
def pull_failure_alert(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.observability import record_reaction
    from shared.services.reactions import react_to_alert

    reactions = react_to_alert(read_json(req), ctx)
    for reaction in reactions:
        record_reaction(log, event_type="AzureMonitor.Alert", event_id=None, reaction=reaction)
    return json_response({"reactions": [r.to_dict() for r in reactions]}, status_code=202)
