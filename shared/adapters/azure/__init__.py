"""Adapters over the official Azure SDKs. Every SDK import happens lazily, on first use."""

from shared.adapters.azure.access import AzureAccess
from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.directory import GraphDirectory
from shared.adapters.azure.discovery import ResourceGraphDiscovery
from shared.adapters.azure.events import EventGridTopic
from shared.adapters.azure.monitor import AzureMonitor
from shared.adapters.azure.pacing import RealTime, RequestPacer
from shared.adapters.azure.registry import AzureRegistry
from shared.adapters.azure.secrets import KeyVaultSecrets

__all__ = [
    "AzureAccess",
    "AzureClients",
    "AzureMonitor",
    "AzureRegistry",
    "EventGridTopic",
    "GraphDirectory",
    "KeyVaultSecrets",
    "RealTime",
    "RequestPacer",
    "ResourceGraphDiscovery",
]
