"""cachekeeper: keeps Azure Container Registry artifact cache healthy.

The product's core. It never imports `azure.functions`; `shared.domain` imports no Azure SDK.
"""

__version__ = "0.1.0"
