"""Helpers for the reliability suite (issue 10): a seeded event generator, an Event Grid-like
driver that redelivers on transient errors, and the invariants checked on the sandbox's
request log and the journal."""
