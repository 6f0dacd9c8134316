"""A small function app used only by the devhost end-to-end tests.

The Event Grid and timer functions append one JSON line per invocation to the file named by
SAMPLE_RECORD_FILE, so the test process can see what the host delivered.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


def _record(entry: dict[str, Any]) -> None:
    with open(os.environ["SAMPLE_RECORD_FILE"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, default=str) + "\n")


@app.function_name("get_item")
@app.route(route="items/{id:int}/{label?}", methods=["GET", "PUT"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "route": dict(req.route_params),
        "params": dict(req.params),
        "method": req.method,
        "body": req.get_body().decode(),
    }
    return func.HttpResponse(
        json.dumps(body), status_code=200, mimetype="application/json", headers={"X-Sample": "1"}
    )


@app.function_name("files")
@app.route(route="files/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def files(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params.get("path", ""), status_code=200)


@app.function_name("boom")
@app.route(route="boom", methods=["POST"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-internal-detail")


@app.function_name("on_event")
@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    data = event.get_json()
    if isinstance(data, dict) and data.get("fail"):
        raise RuntimeError("asked to fail")
    # Event Grid schema events have event_type; CloudEvents have type.
    kind = getattr(event, "event_type", None) or getattr(event, "type", None)
    _record({"function": "on_event", "id": event.id, "type": kind, "data": data})


@app.function_name("tick")
@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_SCHEDULE%", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    _record({"function": "tick", "past_due": timer.past_due, "at": time.time()})
