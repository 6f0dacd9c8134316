"""Figure 5: a full audit of 20 registries x 1,000 rules x 50 credential sets, 20 ms per call.

Run as `python -m bench.scale [--in-process]` (a fresh process, so its peak RSS is the audit's
own): it loads the fleet into a sandbox, warms one worker (clients built, Key Vault challenge
answered), then runs `run_audit` with 20 ms injected on every call and prints JSON: the calls it
made (by kind), its peak RSS, and its wall and CPU time for information.

By default the sandbox runs **out of process**, as Azure does in production: `python -m sandbox`
serves the fleet over HTTP on 127.0.0.1 and the product's SDK clients reach it through azure-core's
own `requests` transport (`sandbox.ForwardingTransport` rewrites each URL to the server), so this
interpreter runs only the product and the emulator's CPU runs in the server's. The latency is
injected server-side, per call, so the client measures it. `--in-process` runs the emulator in
the audit's interpreter instead (`Sandbox.transport()`), for profiling.

The emulator throttles as ARM and Key Vault do (option `throttling`, docs/fidelity.md): one
subscription's 250-read burst, refilled at 25 per second of real time, so the audit's reads are
paced and its wall time is bound by the throttle, not by this process. The result says how many
ARM reads it made, how many 429s it drew (the pacing should draw none), the fewest reads its
bucket held (never below `ARM_READ_RESERVE`) and the throttle-bound minimum
(reads - (250 - reserve)) / 25 s. `--no-throttling` runs it against an emulator that never
throttles, as this figure used to. The wall time is not compared with a budget.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench import scenarios as sc
from bench.common import ROOT, Row, app_environment
from bench.economy import kind_of
from bench.wiring import bench_settings, remote_clients, remote_context, sandbox_context
from sandbox import RequestRecord, Sandbox
from shared.adapters.azure import AzureAccess, AzureClients, AzureRegistry
from shared.domain.secrets import SecretRef
from shared.services.context import Context
from shared.settings import Settings

REGISTRIES, RULES, SETS = 20, 1000, 50
LATENCY_MS = 20
RSS_BUDGET_MB = 300.0

AUDIT_FUNCTION = "shared.services.audit.run_audit"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _InProcess:
    """The emulator in this interpreter (reference)."""

    where = "in-process"

    def __init__(self, doc: dict[str, Any], settings: Settings) -> None:
        self.sandbox = Sandbox(doc)
        self.context: Context = sandbox_context(self.sandbox, settings)

    def clients(self) -> AzureClients:
        return AzureClients(self.sandbox.credential(), transport=self.sandbox.transport())

    def clear_log(self) -> None:
        self.sandbox.log.clear()

    def latency(self, ms: int) -> None:
        self.sandbox.faults.latency(ms)

    def records(self) -> list[RequestRecord]:
        return self.sandbox.log.all()

    def peak_rss_mb(self) -> float | None:
        return None  # it is this process's own

    def close(self) -> None:
        pass


class _Remote:
    """`python -m sandbox` in its own process, over HTTP (as Azure is, in production)."""

    where = "out of process (python -m sandbox over HTTP)"

    def __init__(self, doc: dict[str, Any], settings: Settings) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-scale-")
        scenario = Path(self._dir.name) / "fleet.json"
        scenario.write_text(json.dumps(doc))
        self._stderr = (Path(self._dir.name) / "server.err").open("w+")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, our own code
            [sys.executable, "-m", "sandbox", "--port", "0", "--scenario", str(scenario)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
        )  # fmt: skip
        self.url = self._wait_for_server()
        self.context = remote_context(self.url, settings, doc["policies"])

    def _wait_for_server(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # "sandbox listening on http://127.0.0.1:PORT"
        found = re.search(r"http://\S+", line)
        if found is None:
            self.close()
            raise RuntimeError(f"python -m sandbox did not start: {line.strip() or 'no output'}")
        return found.group(0)

    def _control(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        url = f"{self.url}/_sandbox{path}"  # the server we started, on 127.0.0.1
        request = urllib.request.Request(url, data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            payload = response.read()
        return json.loads(payload) if payload else None

    def clients(self) -> AzureClients:
        return remote_clients(self.url)

    def clear_log(self) -> None:
        self._control("DELETE", "/requests")

    def latency(self, ms: int) -> None:
        self._control("POST", "/faults", {"kind": "latency", "latencyMs": ms, "rate": 1.0})

    def records(self) -> list[RequestRecord]:
        return [RequestRecord(**r) for r in self._control("GET", "/requests")["requests"]]

    def peak_rss_mb(self) -> float | None:
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) / 1024.0 if found else None

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()
        self._dir.cleanup()


def measure(*, in_process: bool = False, throttling: bool = True) -> dict[str, Any]:
    """Run the audit once and measure it (called in a fresh process)."""
    from shared.services.audit import run_audit

    doc = sc.fleet(registries=REGISTRIES, sets=SETS, rules=RULES)
    doc["throttling"] = {"enabled": throttling}
    settings = bench_settings(sc.registry_names(REGISTRIES), sc.VAULTS)
    azure = _InProcess(doc, settings) if in_process else _Remote(doc, settings)
    del doc
    try:
        ctx = azure.context
        for k in (0, 4):  # a warm worker: clients built, each vault's challenge answered
            ctx.secrets.list_versions(
                SecretRef.parse(
                    f"https://{sc.vault_of(k)}.vault.azure.net/secrets/{sc.secret_names(k)[0]}"
                )
            )
        _load_sdk_modules(azure, settings)
        rss_before = _rss_mb()
        azure.clear_log()
        azure.latency(LATENCY_MS)
        cpu, start = time.process_time(), time.perf_counter()
        report = run_audit(ctx, reconcile=False)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        rss_after = _rss_mb()
        records = [r for r in azure.records() if not r.challenge]
        server_rss = azure.peak_rss_mb()
    finally:
        azure.close()
    reads = [r for r in records if r.plane == "arm" and r.method == "GET"]
    left = [r.extra["remaining"] for r in reads if "remaining" in r.extra]
    reserve = settings.arm_read_reserve
    return {
        "emulator": azure.where,
        "throttling": throttling,
        "arm_reads": len(reads),
        "throttled": sum(1 for r in records if r.status == 429),
        "lowest_remaining_reads": min(left) if left else None,
        "throttle_bound_s": max(0.0, (len(reads) - (250 - reserve)) / 25) if throttling else 0.0,
        "partial": report.partial,
        "wall": wall,
        "cpu": cpu,
        "calls": len(records),
        "calls_by_kind": dict(Counter(kind_of(r) for r in records)),
        "rss_before_audit_mb": rss_before,
        "peak_rss_mb": rss_after,
        "emulator_peak_rss_mb": server_rss,
        "findings": report.counts,
    }


def _load_sdk_modules(azure: _InProcess | _Remote, settings: Settings) -> None:
    """Load what a worker that has reacted or audited before has loaded: every SDK client the
    audit uses, built and used once through clients of their own, so that nothing of the
    audited context (its clients, its caches) is warm; the log is cleared afterwards."""
    registry, vault = settings.managed_registries[0], settings.vault_allowlist[0]
    spare = azure.clients()
    registries, access = AzureRegistry(spare), AzureAccess(spare)
    registries.list_cache_rules(registry)
    registries.list_credential_sets(registry)
    access.vault_access(vault)
    access.all_role_assignments(vault)


def _run(*extra: str) -> dict[str, Any] | str:
    """Measure in a fresh process; the JSON result, or why it failed."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-m", "bench.scale", *extra],
        cwd=ROOT, env=app_environment(), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def scale() -> list[Row]:
    """Figure 5 rows: the audit's calls and its peak RSS (against the budget), from one fresh
    process; its wall time is in the note, for information only."""
    name = "full audit 20 x 1,000 x 50, 20 ms per call: calls"
    result = _run()
    if isinstance(result, str):
        return [Row("5", name, None, None, "calls", "reference", None, f"{AUDIT_FUNCTION} failed: {result}")]  # fmt: skip
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(result["calls_by_kind"].items()))
    peak = result["peak_rss_mb"]
    return [
        Row("5", name, float(result["calls"]), None, "calls", "reference", None,
            f"{kinds}; wall {result['wall']:.2f} s and {result['cpu']:.1f} s of CPU in the audit's "
            f"process, for information; emulated Azure {result['emulator']}; {_throttling(result)}",
            result),
        Row("5", "full audit: peak RSS / budget", peak, RSS_BUDGET_MB, "MB",
            "< 300 MB", peak < RSS_BUDGET_MB,
            f"the audit's process ({result['rss_before_audit_mb']:.0f} MB before the audit); "
            f"the emulator's process peaked at {result.get('emulator_peak_rss_mb') or 0:.0f} MB"),
    ]  # fmt: skip


def _throttling(result: dict[str, Any]) -> str:
    if not result.get("throttling"):
        return "no throttling"
    return (
        f"throttled as ARM: {result['arm_reads']} reads, {result['throttled']} answered 429, "
        f"the bucket never below {result['lowest_remaining_reads']} reads, throttle-bound "
        f"minimum {result['throttle_bound_s']:.1f} s"
        + (f", partial: {result['partial']}" if result.get("partial") else "")
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: measure once and print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument(
        "--in-process", action="store_true", help="run the emulator in this interpreter"
    )
    parser.add_argument(
        "--no-throttling", action="store_true", help="an emulator that never throttles"
    )
    args = parser.parse_args(argv)
    print(json.dumps(measure(in_process=args.in_process, throttling=not args.no_throttling)))


if __name__ == "__main__":
    main()
