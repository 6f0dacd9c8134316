"""The Azurite launcher serves Azure Table Storage to the real SDK client."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient

from devhost.azurite import ACCOUNT_NAME, Azurite, AzuriteError, start_azurite

pytestmark = pytest.mark.azurite


def test_tables_can_be_created_listed_and_deleted(azurite: Azurite) -> None:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    service.create_table("devhostprobe")
    try:
        names = [table.name for table in service.list_tables()]
        assert "devhostprobe" in names
    finally:
        service.delete_table("devhostprobe")
    assert "devhostprobe" not in [table.name for table in service.list_tables()]


def test_endpoint_and_connection_string_name_the_same_port(azurite: Azurite) -> None:
    assert azurite.table_endpoint == f"http://127.0.0.1:{azurite.port}/{ACCOUNT_NAME}"
    assert f"TableEndpoint={azurite.table_endpoint};" in azurite.connection_string


def test_stop_ends_the_process_and_frees_the_port() -> None:
    with start_azurite() as running:
        port = running.port
        assert running.running()
    assert not running.running()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def test_a_missing_azurite_says_to_bootstrap(tmp_path: Path) -> None:
    with pytest.raises(AzuriteError, match="make bootstrap"):
        start_azurite(executable=tmp_path / "azurite-table")


def test_an_azurite_that_dies_reports_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "azurite-table"
    fake.write_text("#!/bin/sh\necho 'port already in use' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(AzuriteError, match="port already in use"):
        start_azurite(executable=fake, workdir=tmp_path / "work")
