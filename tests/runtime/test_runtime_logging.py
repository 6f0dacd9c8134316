"""What the host receives of the app's logging under the real worker: every record written inside
an HTTP or timer invocation carries that invocation's id (and the front end's request id on HTTP),
each `logging` call arrives as exactly one RpcLog, and the trace id the function sees is the one
the host sent in the invocation's traceparent (PYTHON_ENABLE_OPENTELEMETRY=true, as deployed)."""

from __future__ import annotations

from tests.runtime.host import FunctionsHost
from tests.runtime.host_logs import NO_TRACE, HostLog

REQUEST_ID = "5b0c7e1d-2a4f-4c6e-9d3b-0123456789ab"


def ours(host: FunctionsHost, invocation_id: str) -> list[HostLog]:
    """The app's records (not the worker's own) the worker attributed to the invocation."""
    return [
        log
        for log in host.logs.of_invocation(invocation_id)
        if log.rpc.category.startswith(("shared.", "functions."))
    ]


def last_invocation(host: FunctionsHost, name: str) -> str:
    (invocation_id,) = [i for n, i in host.invocations[-1:] if n == name]
    return invocation_id


def test_records_of_an_http_invocation_carry_its_invocation_and_request_ids(
    host: FunctionsHost,
) -> None:
    reply = host.http("POST", "/api/audit", json_body={}, headers={"X-ARR-LOG-ID": REQUEST_ID})
    assert reply.status == 200, reply.body
    invocation_id = last_invocation(host, "run_audit")
    logs = ours(host, invocation_id)
    assert [log.rpc.message.split(" ")[:2] for log in logs] == [["audit", "finished"]]
    assert {(log.scope.get("invocation_id"), log.scope.get("request_id")) for log in logs} == {
        (invocation_id, REQUEST_ID)
    }


def test_records_of_a_timer_invocation_carry_its_invocation_id(host: FunctionsHost) -> None:
    before = len(host.logs.received)
    host.timer("audit_timer", past_due=True)
    invocation_id = last_invocation(host, "audit_timer")
    logs = ours(host, invocation_id)
    # past due, then any run left open closed as partial, then the new run's start
    assert logs[0].rpc.message.startswith("the audit timer is past due")
    assert logs[-1].rpc.message.startswith("audit run started")
    assert {log.scope.get("invocation_id") for log in logs} == {invocation_id}
    # no record of the app's was written in the tick without the worker attributing it to it
    stray = [
        log for log in host.logs.received[before:]
        if log.rpc.category.startswith(("shared.", "functions.")) and log not in logs
    ]  # fmt: skip
    assert stray == []


def test_the_function_sees_the_hosts_trace_id(host: FunctionsHost) -> None:
    host.timer("audit_timer")
    invocation_id = last_invocation(host, "audit_timer")
    sent = host.trace_parents[invocation_id].split("-")[1]
    started = ours(host, invocation_id)[-1]
    assert started.rpc.message.startswith("audit run started")
    assert started.trace_id == sent != NO_TRACE
