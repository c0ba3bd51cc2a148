"""Test doubles shared by the flag tests: a manual clock and a fake App Configuration provider."""

from __future__ import annotations

import threading
from typing import Any


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def feature_flags(**enabled: bool) -> dict[str, Any]:
    """The value the provider stores under ``feature_management`` for simple on/off feature flags."""
    return {"feature_flags": [{"id": name, "enabled": on} for name, on in enabled.items()]}


class FakeProvider(dict[str, Any]):
    """Mapping-like stand-in for AzureAppConfigurationProvider.

    Keys are already prefix-trimmed, as the real provider does with ``trim_prefixes``.
    ``refresh()`` counts its calls and swaps in ``pending`` when set (a new store state),
    or raises ``fail_with`` when set.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.refresh_calls = 0
        self.refresh_threads: list[int] = []
        self.pending: dict[str, Any] | None = None
        self.fail_with: Exception | None = None
        self.closed = False

    def refresh(self) -> None:
        self.refresh_calls += 1
        self.refresh_threads.append(threading.get_ident())
        if self.fail_with is not None:
            raise self.fail_with
        if self.pending is not None:
            self.clear()
            self.update(self.pending)
            self.pending = None

    def close(self) -> None:
        self.closed = True


class FakeLoader:
    """Stands in for ``azure.appconfiguration.provider.load``; records how it was called."""

    def __init__(self, provider: FakeProvider | None = None, error: Exception | None = None) -> None:
        self.provider = provider if provider is not None else FakeProvider({})
        self.error = error
        self.calls: list[dict[str, Any]] = []
        self.threads: list[int] = []

    def __call__(self, **kwargs: Any) -> FakeProvider:
        self.calls.append(kwargs)
        self.threads.append(threading.get_ident())
        if self.error is not None:
            raise self.error
        return self.provider
