"""Emulated Azure (ACR artifact cache, Authorization, Key Vault) for tests and the local run.

Never deployed, and independent of `shared/` on purpose: it is the oracle the product is
tested against. See README.md.
"""

from sandbox.clock import Clock
from sandbox.core import Sandbox
from sandbox.env import SandboxOptions
from sandbox.faults import FaultRule, Faults
from sandbox.health import Health
from sandbox.requestlog import RequestLog, RequestRecord
from sandbox.scenario import Scenario, ScenarioError
from sandbox.transport import ForwardingTransport, SandboxTransport, StaticTokenCredential


def credential() -> StaticTokenCredential:
    """A TokenCredential returning a fake token (the sandbox accepts any bearer token)."""
    return StaticTokenCredential()


__all__ = [
    "Clock",
    "FaultRule",
    "Faults",
    "ForwardingTransport",
    "Health",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "SandboxOptions",
    "SandboxTransport",
    "Scenario",
    "ScenarioError",
    "StaticTokenCredential",
    "credential",
]
