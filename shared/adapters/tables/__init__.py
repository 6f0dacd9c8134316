"""The policy table and the journal on Azure Table Storage (Azurite locally).

    service = tables_service(settings.storage_connection, credential=managed_identity)
    policies = TablePolicyStore(service, settings.policy_table)
    journal = TableJournal(service, settings.journal_table)

Importing this package loads no Azure SDK; the SDK is imported on first use.
"""

from shared.adapters.tables._client import tables_service
from shared.adapters.tables.fanout import TableFanoutStore
from shared.adapters.tables.journal import TableJournal
from shared.adapters.tables.policies import TablePolicyStore
from shared.adapters.tables.reports import TableReportStore

__all__ = [
    "TableFanoutStore",
    "TableJournal",
    "TablePolicyStore",
    "TableReportStore",
    "tables_service",
]
