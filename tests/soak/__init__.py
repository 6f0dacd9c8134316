"""Helpers for the reliability suite: a seeded event generator, an Event Grid-like
driver that redelivers on transient errors, and the invariants checked on the sandbox's
request log and the journal."""
