"""Cache-rule lists through the Registry adapter and the real SDK client, over the sandbox
in-process and over HTTP: every page once and in order, errors translated, the SDK's retries on
throttling, and pages that are not what ARM sends."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench import scenarios as sc
from bench.wiring import SUB as SUBSCRIPTION
from bench.wiring import registry_id, remote_clients, vault_id
from sandbox import Sandbox
from shared.adapters.azure import AzureClients, AzureRegistry
from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError, NotFoundError, ThrottledError, UpstreamUnavailableError
from tests.integration.conftest import served

COUNT = 5  # registries in the fleet
RULES = 7  # per registry: pages of 3, 3 and 1
PAGE = 3
NAMES = sc.registry_names(COUNT)
REGISTRIES = [ResourceId.parse(registry_id(name)) for name in NAMES]
SKIP_TOKENS = [None, "3", "6"]  # the pages of one registry's list, in order
EVERY_PAGE_ONCE = [("GET", token, 200) for token in SKIP_TOKENS]


@pytest.fixture
def sandbox() -> Sandbox:
    """A fleet whose rule lists span several pages (named `sandbox` so the session's check that
    no secret value is ever served applies to it)."""
    return Sandbox(sc.fleet(registries=COUNT, sets=2, rules=RULES), page_size=PAGE)


def in_process(sb: Sandbox, *, sleep_scale: float = 1.0) -> AzureRegistry:
    """The adapter wired as shared.bootstrap does in sandbox mode."""
    return AzureRegistry(
        AzureClients(sb.credential(), transport=sb.transport(sleep_scale=sleep_scale))
    )


def pages(sb: Sandbox, name: str) -> list[tuple[str, str | None, int]]:
    """(method, skip token, status) of every logged request for `name`'s cache-rule list."""
    return [
        (r.method, r.query.get("$skipToken"), r.status)
        for r in sb.requests_matching(f"/registries/{name}/cacheRules$")
    ]


def test_every_rule_of_a_registry_one_get_per_page_in_order(sandbox: Sandbox) -> None:
    registry = in_process(sandbox)

    listed = [registry.list_cache_rules(r) for r in REGISTRIES]

    for name in NAMES:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE
    assert len(sandbox.requests) == COUNT * len(SKIP_TOKENS)
    assert sandbox.write_count() == 0
    assert [len(rules) for rules in listed] == [RULES] * COUNT
    assert all(
        rule.registry == r for r, rules in zip(REGISTRIES, listed, strict=True) for rule in rules
    )
    for name, rules in zip(NAMES, listed, strict=True):
        stored = sandbox.state.registry(SUBSCRIPTION, "rg-cache", name)
        assert stored is not None
        assert sorted(r.name for r in rules) == sorted(stored.cache_rules)


def test_a_missing_registry_is_not_found_after_one_request(sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError, match="nosuchcache"):
        in_process(sandbox).list_cache_rules(ResourceId.parse(registry_id("nosuchcache")))
    assert pages(sandbox, "nosuchcache") == [("GET", None, 404)]
    assert len(sandbox.requests) == 1


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
    with pytest.raises(InvalidInputError):
        in_process(sandbox).list_cache_rules(ResourceId.parse(invalid))
    assert sandbox.requests == []


def test_a_throttled_page_is_retried_by_the_sdk_and_the_listing_succeeds(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.script("/registries/benchreg01/cacheRules$", "429", count=1, retry_after=1)
    registry = in_process(sandbox, sleep_scale=0)

    listed = registry.list_cache_rules(REGISTRIES[1])

    assert pages(sandbox, "benchreg01") == [("GET", None, 429), *EVERY_PAGE_ONCE]
    assert len(listed) == RULES


def test_throttling_that_outlasts_the_retries_is_a_throttled_error_with_its_retry_after(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.script("/registries/benchreg02/cacheRules$", "429", count=100, retry_after=7)
    with pytest.raises(ThrottledError) as caught:
        in_process(sandbox, sleep_scale=0).list_cache_rules(REGISTRIES[2])
    assert caught.value.retry_after == 7
    attempts = pages(sandbox, "benchreg02")
    assert len(attempts) > 1  # the SDK retried
    assert all(status == 429 for _, _, status in attempts)


def test_over_http_the_same_rules_as_in_process(sandbox: Sandbox, server: str) -> None:
    expected = [in_process(sandbox).list_cache_rules(r) for r in REGISTRIES]
    sandbox.log.clear()
    registry = AzureRegistry(remote_clients(server))

    assert [registry.list_cache_rules(r) for r in REGISTRIES] == expected
    for name in NAMES:
        assert pages(sandbox, name) == EVERY_PAGE_ONCE
    with pytest.raises(NotFoundError):  # the SDK's 404 over HTTP, translated
        registry.list_cache_rules(ResourceId.parse(registry_id("gone")))


# ---- pages that are not what ARM sends ------------------------------------------------------
# by registry name: the first page's content type and body
PAGES: dict[str, tuple[str, bytes]] = {
    "notjson": ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
    "garbled": ("application/json", b'{"value": [{"id": '),
    "array": ("application/json", b'[{"id": "a"}]'),
    "bom": (
        "application/json",
        b'\xef\xbb\xbf{"value": [], "nextLink": "https://management.azure.com/x/registries/last/cacheRules"}',
    ),
    "last": ("application/json", b'{"value": []}'),
    "thengarbage": (
        "application/json",
        b'{"value": [], "nextLink": "https://management.azure.com/x/registries/notjson/cacheRules"}',
    ),
}


class _PageHandler(BaseHTTPRequestHandler):
    """Stands in for ARM (a third-party endpoint): fixed bodies by registry name."""

    protocol_version = "HTTP/1.1"
    served: list[str] = []

    def do_GET(self) -> None:
        name = self.path.split("?")[0].split("/registries/")[1].split("/")[0]
        _PageHandler.served.append(name)
        content_type, body = PAGES[name]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def odd_pages() -> Iterator[AzureRegistry]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    http.daemon_threads = True
    _PageHandler.served = []
    with served(http) as url:
        yield AzureRegistry(remote_clients(url))


@pytest.mark.parametrize("name", ["notjson", "garbled", "array", "thengarbage"])
def test_an_unreadable_page_is_a_transient_upstream_error(
    odd_pages: AzureRegistry, name: str
) -> None:
    """A garbled answer (a proxy's error page, a cut body, not a JSON object) is worth
    retrying: Event Grid redelivers."""
    with pytest.raises(UpstreamUnavailableError) as caught:
        odd_pages.list_cache_rules(ResourceId.parse(registry_id(name)))
    assert caught.value.transient
    assert "unreadable answer" in str(caught.value)


def test_a_page_with_a_byte_order_mark_is_read_and_its_next_link_followed(
    odd_pages: AzureRegistry,
) -> None:
    assert odd_pages.list_cache_rules(ResourceId.parse(registry_id("bom"))) == []
    assert _PageHandler.served == ["bom", "last"]
