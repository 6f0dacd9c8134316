"""Adapters implementing the ports: azure/ (SDKs), tables (Table Storage), memory (fakes)."""
