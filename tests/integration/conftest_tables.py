"""Fixtures for the Table Storage adapter tests; test modules import them explicitly.

Every test gets a fresh, uniquely named table on the session's Azurite, deleted afterwards.
Fixture functions carry `name=` so importing them never shadows a test's parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.data.tables import TableServiceClient

from devhost.azurite import Azurite
from shared.adapters.tables import TableJournal, TablePolicyStore, tables_service

__all__ = [
    "connection_string_fixture",
    "journal_fixture",
    "policy_store_fixture",
    "service_fixture",
    "table_fixture",
]


@pytest.fixture(name="connection_string", scope="session")
def connection_string_fixture(azurite: Azurite) -> str:
    """The session's Azurite connection string (for tests that need clients of their own)."""
    return azurite.connection_string


@pytest.fixture(name="service", scope="session")
def service_fixture(azurite: Azurite) -> TableServiceClient:
    """One client for the session's Azurite, through the product's own factory."""
    return tables_service(azurite.connection_string, retry_total=0)


@pytest.fixture(name="table")
def table_fixture(service: TableServiceClient) -> Iterator[str]:
    """A fresh table name; the table is deleted after the test."""
    name = f"t{uuid.uuid4().hex}"
    yield name
    service.delete_table(name)


@pytest.fixture(name="policy_store")
def policy_store_fixture(service: TableServiceClient, table: str) -> TablePolicyStore:
    """A policy store on a fresh table."""
    return TablePolicyStore(service, table)


@pytest.fixture(name="journal")
def journal_fixture(service: TableServiceClient, table: str) -> TableJournal:
    """A journal on a fresh table."""
    return TableJournal(service, table)
