"""A full audit on a small fleet with page size 4 makes exactly the minimum of ARM and Key Vault
calls derived from the fleet's structure and page sizes (bench/audit_calls.py justifies each)."""

from __future__ import annotations

from bench.audit_calls import audit_call_rows, audit_minimum, measure


def test_a_full_audit_makes_exactly_its_minimum_of_calls() -> None:
    by_kind, minimum, writes, challenges, clean = measure(registries=3, sets=5, rules=10, page=4)
    assert minimum == audit_minimum(3, 5, 10, 4)
    assert by_kind == minimum
    assert writes == 0
    assert clean
    # counted apart from the calls: each registry's data-plane challenge, and Key Vault's at
    # most once per vault in this process
    assert challenges.get("acr") == 3
    assert challenges.get("keyvault", 0) <= 2


def test_the_bench_row_holds_the_same_figure() -> None:
    (row,) = audit_call_rows()
    assert row.ok is True
    assert row.measured == row.baseline
