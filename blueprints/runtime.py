"""The process's services, shared by the HTTP app and the other triggers of the function app.

Built lazily from the environment on first use (the Functions host offers no reliable start hook);
the local dev stack calls `configure()` first to pass its settings.
"""

from __future__ import annotations

from shared.composition import ServicesHolder
from shared.settings import ProcessRole, Settings

_holder = ServicesHolder(role=ProcessRole.FUNCTIONS)


def current() -> ServicesHolder:
    return _holder


def configure(settings: Settings) -> ServicesHolder:
    """Use these settings for the services of this process (call before the first request)."""
    global _holder  # noqa: PLW0603 (one holder per process, swapped only by the dev stack and tests)
    _holder = ServicesHolder(settings)
    return _holder
