"""What an Event Grid custom topic's endpoint looks like (pure).

Azure gives a topic the endpoint `https://<topic>.<region>-1.eventgrid.azure.net/api/events`
(`az eventgrid topic show --query endpoint`); publishers POST CloudEvents batches there
(docs/fidelity.md, the Event Grid publishing rows).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from shared.errors import InvalidInputError

__all__ = ["EVENTGRID_SUFFIX", "parse_topic_endpoint"]

EVENTGRID_SUFFIX = ".eventgrid.azure.net"
_TOPIC_HOST = re.compile(
    r"[a-z0-9][a-z0-9-]{1,48}[a-z0-9]\.[a-z0-9]+-1\.eventgrid\.azure\.net", re.ASCII
)


def parse_topic_endpoint(text: str) -> str:
    """The endpoint, normalized (lower-case host, path `/api/events`); InvalidInputError when it
    is not a custom topic's endpoint."""
    parts = urlsplit(text.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not _TOPIC_HOST.fullmatch(host):
        raise InvalidInputError(
            f"{text.strip()[:200]!r} is not an Event Grid custom topic endpoint "
            "(https://<topic>.<region>-1.eventgrid.azure.net/api/events)"
        )
    if parts.port is not None or parts.query or parts.fragment or parts.username:
        raise InvalidInputError("a topic endpoint has no port, query, fragment or user")
    if parts.path.rstrip("/") not in ("", "/api/events"):
        raise InvalidInputError(f"a topic endpoint's path is /api/events, not {parts.path!r}")
    return f"https://{host}/api/events"
