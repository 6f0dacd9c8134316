"""In-memory fakes of every port, enforcing the same rules the real services enforce.

Used by unit tests (hand-written fakes that record end state, not mocks of our own modules).
"""

from shared.adapters.memory.access import MemoryAccess
from shared.adapters.memory.clock import FixedClock
from shared.adapters.memory.directory import MemoryDirectory
from shared.adapters.memory.fanout import MemoryFanoutStore
from shared.adapters.memory.monitor import MemoryMonitor
from shared.adapters.memory.policies import MemoryPolicyStore
from shared.adapters.memory.registry import MemoryRegistry
from shared.adapters.memory.reports import MemoryReportStore
from shared.adapters.memory.secrets import MemorySecrets
from shared.adapters.memory.stores import MemoryJournal

__all__ = [
    "FixedClock",
    "MemoryAccess",
    "MemoryDirectory",
    "MemoryFanoutStore",
    "MemoryJournal",
    "MemoryMonitor",
    "MemoryPolicyStore",
    "MemoryRegistry",
    "MemoryReportStore",
    "MemorySecrets",
]
