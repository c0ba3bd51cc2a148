"""Fault scenarios: the stack under process kills, a locked store, a dead or hung cache, a broken or
hanging model and overlapping callers. Each asserts that no caller word, event or post-call job is lost.
Loopback only; every wait is bounded."""
