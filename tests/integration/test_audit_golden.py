"""The audit's findings, planned actions and outcomes on the demo and bench fleets equal the
golden fixtures captured before the audit path was shortened (tests/integration/audit_golden.py)."""

from __future__ import annotations

import json

import pytest

from tests.integration.audit_golden import CASES, FIXTURES


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_audit_finds_exactly_the_golden_findings(name: str) -> None:
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    assert CASES[name]() == expected
