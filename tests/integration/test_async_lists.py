"""Every registry's cache rules listed from one event loop (`Registry.list_cache_rules_of`) through
the real asyncio SDK client: over the sandbox in-process (`SandboxAsyncTransport`) and over HTTP
(`ForwardingAioHttpTransport`, azure-core's aiohttp transport). The same rules in the same order as
the synchronous listing, one GET per page, errors in input order after every chain finished, and
the SDK's retries on throttling; plus the in-memory port, and pages that are not JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.core.exceptions import DecodeError

from bench import scenarios as sc
from bench.wiring import SUB as SUBSCRIPTION
from bench.wiring import registry_id, remote_clients, vault_id
from sandbox import Sandbox
from shared.adapters.azure import AzureClients, AzureRegistry
from shared.adapters.azure.arm_lists import list_json, list_json_async
from shared.adapters.azure.errors import translate_errors
from shared.adapters.memory import MemoryRegistry
from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidInputError, NotFoundError, ThrottledError, UpstreamUnavailableError
from tests.integration.conftest import served

COUNT = 5  # registries in the fleet
RULES = 7  # per registry: pages of 3, 3 and 1
PAGE = 3
NAMES = sc.registry_names(COUNT)
REGISTRIES = [ResourceId.parse(registry_id(name)) for name in NAMES]
SKIP_TOKENS = [None, "3", "6"]  # the pages of one registry's list, in order
EVERY_PAGE_ONCE = [("GET", token, 200) for token in SKIP_TOKENS]
API_VERSION = "2025-11-01"


@pytest.fixture
def sandbox() -> Sandbox:
    """A fleet whose rule lists span several pages (named `sandbox` so the session's check that
    no secret value is ever served applies to it)."""
    return Sandbox(sc.fleet(registries=COUNT, sets=2, rules=RULES), page_size=PAGE)


def in_process(sb: Sandbox, *, sleep_scale: float | None = None) -> AzureRegistry:
    """The adapter wired as shared.bootstrap does in sandbox mode."""
    if sleep_scale is None:
        return AzureRegistry(
            AzureClients(
                sb.credential(), transport=sb.transport(), async_transport=sb.async_transport
            )
        )
    scale = sleep_scale
    return AzureRegistry(
        AzureClients(
            sb.credential(),
            transport=sb.transport(sleep_scale=scale),
            async_transport=lambda: sb.async_transport(sleep_scale=scale),
        )
    )


def pages(sb: Sandbox, name: str) -> list[tuple[str, str | None, int]]:
    """(method, skip token, status) of every logged request for `name`'s cache-rule list."""
    return [
        (r.method, r.query.get("$skipToken"), r.status)
        for r in sb.requests_matching(f"/registries/{name}/cacheRules$")
    ]


def most_chains_at_once(sb: Sandbox) -> int:
    """The most registries whose logged pages interleave: a chain's first to last logged page lies
    within the time it held its slot, so this never exceeds how many ran at once."""
    spans: dict[str, tuple[int, int]] = {}
    for record in sb.requests:
        name = record.path.split("/registries/")[1].split("/")[0]
        first, _ = spans.get(name, (record.seq, record.seq))
        spans[name] = (first, record.seq)
    return max(
        sum(1 for first, last in spans.values() if first <= seq <= last)
        for seq in range(1, len(sb.requests) + 1)
    )


# ---- in-process -----------------------------------------------------------------------------
def test_every_registrys_rules_in_input_order_as_the_synchronous_listing_one_get_per_page(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.latency(5, pattern="/cacheRules$")  # chains overlap, as on a network
    sandbox.faults.latency(40, pattern="/registries/benchreg00/cacheRules$")  # finishes last
    registry = in_process(sandbox)

    listed = registry.list_cache_rules_of(REGISTRIES, limit=2)

    assert sandbox.requests and all(
        r.method == "GET" and r.path.endswith("/cacheRules") for r in sandbox.requests
    )
    for name in NAMES:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE
    assert len(sandbox.requests) == COUNT * len(SKIP_TOKENS)
    assert most_chains_at_once(sandbox) <= 2
    assert sandbox.write_count() == 0

    expected = [registry.list_cache_rules(r) for r in REGISTRIES]
    assert listed == expected
    assert [len(rules) for rules in listed] == [RULES] * COUNT
    assert all(
        rule.registry == r for r, rules in zip(REGISTRIES, listed, strict=True) for rule in rules
    )

    shuffled = [REGISTRIES[i] for i in (3, 0, 4, 1)]
    assert registry.list_cache_rules_of(shuffled, limit=COUNT) == [
        expected[i] for i in (3, 0, 4, 1)
    ]


def test_a_missing_registry_is_not_found_after_the_other_listings_were_all_sent(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.latency(20, pattern="/registries/benchreg0[0-2]/cacheRules$")  # slower than 404s
    missing = [
        ResourceId.parse(registry_id("nosuchcache")),
        ResourceId.parse(registry_id("alsomissing")),
    ]
    asked = [REGISTRIES[0], missing[0], REGISTRIES[1], missing[1], REGISTRIES[2]]

    with pytest.raises(NotFoundError, match="nosuchcache"):  # the first failure in input order
        in_process(sandbox).list_cache_rules_of(asked, limit=2)

    for name in NAMES[:3]:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE
    assert pages(sandbox, "nosuchcache") == [("GET", None, 404)]
    assert pages(sandbox, "alsomissing") == [("GET", None, 404)]
    assert len(sandbox.requests) == 3 * len(SKIP_TOKENS) + 2


@pytest.mark.parametrize(
    "invalid",
    [
        vault_id("kv-bench-rbac"),
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-cache",
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-cache/providers/Microsoft.Storage/storageAccounts/benchreg00",
    ],
    ids=["vault", "resource-group", "storage-account"],
)
def test_an_id_that_is_not_a_registry_is_refused_before_any_request(
    sandbox: Sandbox, invalid: str
) -> None:
    asked = [*REGISTRIES[:2], ResourceId.parse(invalid)]
    with pytest.raises(InvalidInputError):
        in_process(sandbox).list_cache_rules_of(asked, limit=2)
    assert sandbox.requests == []


def test_no_registries_send_nothing(sandbox: Sandbox) -> None:
    assert in_process(sandbox).list_cache_rules_of([], limit=2) == []
    assert sandbox.requests == []


def test_a_throttled_page_is_retried_by_the_async_client_and_the_listing_succeeds(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.script("/registries/benchreg01/cacheRules$", "429", count=1, retry_after=1)
    registry = in_process(sandbox, sleep_scale=0)

    listed = registry.list_cache_rules_of(REGISTRIES, limit=2)

    assert pages(sandbox, "benchreg01") == [("GET", None, 429), *EVERY_PAGE_ONCE]
    for name in NAMES:
        if name != "benchreg01":
            assert pages(sandbox, name) == EVERY_PAGE_ONCE
    assert listed == [registry.list_cache_rules(r) for r in REGISTRIES]
    assert [len(rules) for rules in listed] == [RULES] * COUNT


def test_throttling_that_outlasts_the_retries_is_a_throttled_error_retried_as_the_sync_client(
    sandbox: Sandbox,
) -> None:
    pattern = "/registries/benchreg02/cacheRules$"
    registry = in_process(sandbox, sleep_scale=0)
    sandbox.faults.script(pattern, "429", count=100, retry_after=7)
    with pytest.raises(ThrottledError) as synchronous:
        registry.list_cache_rules(REGISTRIES[2])
    sync_attempts = pages(sandbox, "benchreg02")
    sandbox.log.clear()

    with pytest.raises(ThrottledError) as batched:
        registry.list_cache_rules_of(REGISTRIES[:3], limit=3)

    assert batched.value.retry_after == synchronous.value.retry_after == 7
    assert len(sync_attempts) > 1  # the synchronous client retried ...
    assert pages(sandbox, "benchreg02") == sync_attempts  # ... and the asyncio one as often
    assert all(status == 429 for _, _, status in sync_attempts)
    for name in NAMES[:2]:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE


def test_a_custom_transport_without_an_async_one_refuses_asyncio_clients(
    sandbox: Sandbox,
) -> None:
    clients = AzureClients(sandbox.credential(), transport=sandbox.transport())
    with pytest.raises(RuntimeError, match="async_transport"):
        clients.container_registry_async(SUBSCRIPTION)
    registry = AzureRegistry(clients)
    with pytest.raises(RuntimeError, match="async_transport"):
        registry.list_cache_rules_of(REGISTRIES[:2], limit=2)
    assert sandbox.requests == []  # and nothing went anywhere else either: no default transport
    assert len(registry.list_cache_rules(REGISTRIES[0])) == RULES  # the synchronous path works


# ---- out of process -------------------------------------------------------------------------
def test_over_http_the_aiohttp_transport_lists_the_same_rules_as_the_synchronous_clients(
    sandbox: Sandbox, server: str
) -> None:
    registry = AzureRegistry(remote_clients(server))

    listed = registry.list_cache_rules_of(REGISTRIES, limit=2)

    for name in NAMES:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE
    assert len(sandbox.requests) == COUNT * len(SKIP_TOKENS)
    assert listed == [registry.list_cache_rules(r) for r in REGISTRIES]
    assert [len(rules) for rules in listed] == [RULES] * COUNT
    with pytest.raises(NotFoundError):  # the SDK's 404 over aiohttp, translated
        registry.list_cache_rules_of(
            [REGISTRIES[0], ResourceId.parse(registry_id("gone"))], limit=2
        )


# ---- the in-memory port ---------------------------------------------------------------------
def test_the_memory_port_lists_each_registrys_rules_in_input_order() -> None:
    first, second, third = REGISTRIES[:3]
    memory = MemoryRegistry([first, second, third])
    for registry, count in ((first, 2), (third, 1)):  # second has none
        for j in range(count):
            memory.create_cache_rule(
                registry,
                RuleSpec(
                    f"rule{j:04d}",
                    Upstream.parse(f"mcr.microsoft.com/dotnet/img{j}"),
                    TargetPath.parse(f"mcr/img{j}"),
                ),
            )

    listed = memory.list_cache_rules_of([third, first, second], limit=2)

    assert listed == [
        memory.list_cache_rules(third),
        memory.list_cache_rules(first),
        memory.list_cache_rules(second),
    ]
    assert [[r.registry for r in rules] for rules in listed] == [[third], [first, first], []]
    with pytest.raises(NotFoundError):
        memory.list_cache_rules_of([first, ResourceId.parse(registry_id("gone"))], limit=2)


# ---- pages that are not what ARM sends ------------------------------------------------------
PAGES: dict[str, tuple[str, bytes]] = {
    "/not-json": ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
    "/array": ("application/json", b'[{"id": "a"}]'),
    "/bom": (
        "application/json",
        b'\xef\xbb\xbf{"value": [{"id": "a"}], "nextLink": "https://management.azure.com/last"}',
    ),
    "/last": ("application/json", b'{"value": [{"id": "b"}]}'),
    "/then-garbage": (
        "application/json",
        b'{"value": [{"id": "a"}], "nextLink": "https://management.azure.com/not-json"}',
    ),
}


class _PageHandler(BaseHTTPRequestHandler):
    """Stands in for ARM (a third-party endpoint): fixed bodies by path."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        content_type, body = PAGES[self.path.split("?")[0]]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def odd_pages() -> Iterator[str]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    http.daemon_threads = True
    with served(http) as url:
        yield url


def _list_async(clients: AzureClients, path: str) -> list[Any]:
    async def run() -> list[Any]:
        async with clients.container_registry_async(SUBSCRIPTION) as client:
            return list(await list_json_async(client, path, api_version=API_VERSION))

    return asyncio.run(run())


@pytest.mark.parametrize("path", ["/not-json", "/array", "/then-garbage"])
def test_a_page_that_is_not_a_json_object_is_a_decode_error(odd_pages: str, path: str) -> None:
    clients = remote_clients(odd_pages)
    with pytest.raises(DecodeError):
        list_json(clients.container_registry(SUBSCRIPTION), path, api_version=API_VERSION)
    with pytest.raises(DecodeError):
        _list_async(clients, path)


def test_a_page_with_a_byte_order_mark_is_read_and_its_next_link_followed(odd_pages: str) -> None:
    clients = remote_clients(odd_pages)
    expected = [{"id": "a"}, {"id": "b"}]
    assert list_json(clients.container_registry(SUBSCRIPTION), "/bom", api_version=API_VERSION) == (
        expected
    )
    assert _list_async(clients, "/bom") == expected


def test_an_unreadable_page_is_a_transient_upstream_error(odd_pages: str) -> None:
    """A garbled answer (a proxy's error page) is worth retrying: Event Grid redelivers."""
    clients = remote_clients(odd_pages)
    with pytest.raises(UpstreamUnavailableError) as caught, translate_errors("listing rules"):
        list_json(clients.container_registry(SUBSCRIPTION), "/not-json", api_version=API_VERSION)
    assert caught.value.transient
    assert "unreadable answer" in str(caught.value)
