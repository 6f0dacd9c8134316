"""Paging with `nextLink`: the skip token is an opaque offset."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from sandbox.env import ARM_HOST
from sandbox.errors import bad_request
from sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from sandbox.env import Env

T = TypeVar("T")


def page(
    items: Sequence[T],
    query: dict[str, str],
    base_url: str,
    page_size: int,
    *,
    skip_param: str = "$skipToken",
) -> tuple[Sequence[T], str | None]:
    """Slice one page out of `items` and build the absolute nextLink for the rest."""
    raw = next((v for k, v in query.items() if k.lower() == skip_param.lower()), "0")
    try:
        start = int(raw or "0")
    except ValueError as err:
        raise bad_request("InvalidSkipToken", f"The skip token '{raw}' is not valid.") from err
    end = start + page_size
    chunk = items[start:end]
    if end >= len(items):
        return chunk, None
    rest: dict[str, Any] = {k: v for k, v in query.items() if k.lower() != skip_param.lower()}
    rest[skip_param] = str(end)
    return chunk, f"{base_url}?{urlencode(rest)}"


def arm_list(
    env: Env, req: Request, items: Sequence[T], render: Callable[[Sequence[T]], list[Any]]
) -> Response:
    """One page of an ARM list (`{"value": [...], "nextLink": ...}`, nextLink omitted on the last
    page), the page's items rendered by `render`."""
    chunk, next_link = page(
        items, req.query, f"https://{ARM_HOST}{req.path}", env.options.page_size
    )
    body: dict[str, Any] = {"value": render(chunk)}
    if next_link:
        body["nextLink"] = next_link
    return json_response(200, body)
