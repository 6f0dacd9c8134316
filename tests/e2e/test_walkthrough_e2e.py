"""README.md's first example and docs/walkthrough.md as written: every `sh tested` block of a
page runs, in order, against a local host started here (reset with its stores before each page),
with its exit status and the lines of the `text output` block after it checked.

The commands run in bash from the repository root with `cachekeeper` on PATH (this checkout's
`python -m cli`), `$CACHEKEEPER_URL` naming the host, and `127.0.0.1:7071` read as the host's
own port, in the commands and in the expected output alike.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, demo_host

WALKTHROUGH = REPO_ROOT / "docs" / "walkthrough.md"
PAGES = (REPO_ROOT / "README.md", WALKTHROUGH)
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"\bexit=(\d+)\b")


@dataclass(frozen=True)
class Step:
    command: str
    exit_status: int
    expected: tuple[str, ...]  # lines that must appear in the output, in this order


def steps(markdown: str) -> list[Step]:
    """The tested commands of a page, each with the output block that follows it."""
    blocks = [(m[1].strip(), m[2]) for m in _FENCE.finditer(markdown)]
    found: list[Step] = []
    for index, (info, body) in enumerate(blocks):
        if info != "sh tested":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
        if not following[0].startswith("text output"):
            raise AssertionError(f"tested command without an output block:\n{body}")
        status = _EXIT.search(following[0])
        lines = [" ".join(line.split()) for line in following[1].splitlines()]
        expected = tuple(line for line in lines if line and line != "…")
        found.append(Step(body, int(status[1]) if status else 0, expected))
    return found


def _shim(directory: Path) -> Path:
    """A `cachekeeper` executable that runs this checkout's CLI with this interpreter."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "cachekeeper"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cli "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return directory


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("walkthrough")) as process:
        yield process


def _in_order(expected: tuple[str, ...], output: str) -> list[str]:
    """The expected lines not found, in order, in the whitespace-collapsed output."""
    text, at, missing = " ".join(output.split()), 0, []
    for line in expected:
        found = text.find(line, at)
        if found < 0:
            missing.append(line)
        else:
            at = found + len(line)
    return missing


def test_the_page_has_tested_steps_each_with_its_output() -> None:
    parsed = steps(WALKTHROUGH.read_text())
    assert len(parsed) >= 12
    assert all(step.expected for step in parsed)
    commands = "\n".join(step.command for step in parsed)
    for phrase in ("cachekeeper status", "cachekeeper events send", "cachekeeper audit",
                   "cachekeeper plan", "cachekeeper apply", "/_sandbox/reset?stores=true"):  # fmt: skip
        assert phrase in commands


def test_the_readme_quick_start_is_tested_and_names_its_functions() -> None:
    readme = PAGES[0].read_text()
    parsed = steps(readme)
    assert len(parsed) >= 4
    quick_start = readme[readme.index("## Quick start") : readme.index("## Admin API")]
    assert all(step.command in quick_start for step in parsed)
    assert "functionName=on_keyvault_event" in quick_start and "<function>" not in quick_start


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_page_runs_as_written(host: HostProcess, tmp_path: Path, page: Path) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        raise AssertionError("the walk-through needs curl and jq, as the page says")
    bin_dir = _shim(tmp_path / "bin")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "CACHEKEEPER_URL": host.base,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    ours = f"127.0.0.1:{host.port}"
    assert host.request("POST", "/_sandbox/reset?stores=true").status == 200
    for number, step in enumerate(steps(page.read_text()), start=1):
        command = step.command.replace("127.0.0.1:7071", ours)
        result = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=120, check=False)  # fmt: skip
        output = result.stdout  # both streams, as a terminal shows them
        where = f"step {number}:\n{step.command}\n--- printed (exit {result.returncode}):\n{output}"
        assert result.returncode == step.exit_status, where
        expected = tuple(line.replace("127.0.0.1:7071", ours) for line in step.expected)
        assert _in_order(expected, output) == [], where
