"""The azure-core policy of `pacing.py`: pace each attempt, send it, wait out its 429s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from shared.domain.time_budgets import CALL_BUDGET
from shared.wait_deadline import wait_deadline

if TYPE_CHECKING:
    from shared.adapters.azure.pacing import RequestPacer

__all__ = ["PacingPolicy"]


class PacingPolicy(HTTPPolicy[Any, Any]):
    """azure-core policy: pace, send, and wait out 429s (see the module docstring)."""

    def __init__(self, pacer: RequestPacer) -> None:
        super().__init__()
        self._pacer = pacer

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http_request = request.http_request
        bucket = self._pacer.bucket(str(http_request.method), str(http_request.url))
        if bucket is None:
            return self.next.send(request)
        deadline = wait_deadline() or self._pacer.now() + CALL_BUDGET
        attempt = 0
        while True:
            self._pacer.acquire(bucket, deadline)
            try:
                response = self.next.send(request)
            except BaseException:
                self._pacer.answered(bucket, None)
                raise
            headers = response.http_response.headers
            self._pacer.answered(bucket, headers)
            if response.http_response.status_code != 429:
                return response
            self._pacer.throttled(bucket, headers, attempt, deadline)
            attempt += 1
