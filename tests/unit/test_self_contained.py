"""The repository explains itself: no file cites a document outside it (a design handbook beside
the checkout, or the tracker's issue numbers), so a reader of the repository is never sent
somewhere they cannot follow."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"DESIGN(?:\.md| §)|\.\./shared/|\bissue \d+\b")
TEXT = (".py", ".md", ".json", ".bicep", ".sh", ".toml", ".yaml", ".yml", ".mjs", ".txt")


def _tracked() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if name.endswith(TEXT) or name == "Makefile"]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    files = _tracked()
    assert any(p.name == "architecture.md" for p in files)  # the scan sees the docs
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}"
        for path in files
        if path.is_file() and path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)
