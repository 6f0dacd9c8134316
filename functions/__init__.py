"""Trigger functions: one blueprint per trigger family; each parses, calls one service, maps errors."""
