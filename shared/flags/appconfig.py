"""Feature flags read from Azure App Configuration.

Store layout (``key_prefix`` defaults to ``"flags:"``):

* **Key-values** named ``flags:<flag name>``, e.g. ``flags:answer_hard_timeout_sec`` = ``15``,
  ``flags:recording_enabled`` = ``false``, ``flags:vad_threshold`` = ``0.5``.  Values are
  plain strings (no content type) or JSON (content type ``application/json``); both go
  through :meth:`FeatureFlags.from_raw`, so ``false`` / ``0`` / ``0.0`` are honoured.
  Only keys starting with the prefix are loaded, and the prefix is trimmed.
* **Feature flags** (the portal's "Feature manager") may hold the boolean flags instead:
  a feature flag whose name is the flag name (``recording_enabled``, ``slow_llm_for_chat``)
  is evaluated with ``featuremanagement.FeatureManager.is_enabled`` (time-window filters
  apply; targeting filters see no user).  When both exist, the feature flag wins.
* **Labels**: with ``label=None`` only unlabelled entries are read.  With ``label="prod"``
  the unlabelled entries are read first and the ``prod`` ones override them, for key-values
  and feature flags alike.

Missing keys keep their default; unknown ``flags:*`` keys are ignored with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from azure.appconfiguration.provider import SettingSelector, load
from azure.core.credentials import TokenCredential
from featuremanagement import FeatureManager

from shared.flags.base import CachedFlagSource, FeatureFlags, FlagsError

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "flags:"
FEATURE_MANAGEMENT_KEY = "feature_management"  # where the provider puts the feature flags
_NO_LABEL = "\0"  # App Configuration's "(No label)" filter
_BOOL_FLAGS = tuple(name for name, field in FeatureFlags.model_fields.items() if field.annotation is bool)


class FlagProvider(Protocol):
    """What the source needs from ``azure.appconfiguration.provider.AzureAppConfigurationProvider``."""

    def __iter__(self) -> Iterator[str]: ...

    def __getitem__(self, key: str) -> Any: ...

    def refresh(self) -> None: ...


ProviderLoader = Callable[..., FlagProvider]


class AppConfigFlagSource(CachedFlagSource):
    """A :class:`~shared.flags.base.FlagSource` backed by Azure App Configuration.

    Connects at the first :meth:`get` (failure raises :class:`FlagsError`).  Afterwards,
    once ``ttl_sec`` has passed, :meth:`get` calls the provider's ``refresh()`` in a
    worker thread (the provider is synchronous) and re-parses only if the values
    changed.  A failed refresh or invalid new values are logged and the last good
    snapshot keeps being served.

    Pass either ``endpoint`` (with ``credential``; ``DefaultAzureCredential`` when
    omitted) or ``connection_string``.  ``loader`` builds the provider and exists for
    tests; it is called like ``azure.appconfiguration.provider.load``.
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        credential: TokenCredential | None = None,
        connection_string: str | None = None,
        label: str | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        use_feature_flags: bool = True,
        ttl_sec: float = 60,
        startup_timeout_sec: int = 30,
        clock: Callable[[], float] = time.monotonic,
        loader: ProviderLoader = load,
    ) -> None:
        if (endpoint is None) == (connection_string is None):
            raise ValueError("pass exactly one of endpoint or connection_string")
        if connection_string is not None and credential is not None:
            raise ValueError("credential goes with endpoint, not with connection_string")
        super().__init__(ttl_sec=ttl_sec, clock=clock)
        self._endpoint = endpoint
        self._credential = credential
        self._connection_string = connection_string
        self._labels = [_NO_LABEL] if not label else [_NO_LABEL, label]  # later labels override
        self._prefix = key_prefix
        self._use_feature_flags = use_feature_flags
        self._startup_timeout = startup_timeout_sec
        self._loader = loader
        self._owned_credential: TokenCredential | None = None
        self._provider: FlagProvider | None = None
        self._last_raw: dict[str, object] | None = None

    async def close(self) -> None:
        async with self._lock:
            provider, self._provider = self._provider, None
            credential, self._owned_credential = self._owned_credential, None
        for resource in (provider, credential):
            closer = getattr(resource, "close", None)
            if callable(closer):
                await asyncio.to_thread(closer)

    async def _refresh(self) -> None:
        first_load = self._snapshot is None
        try:
            raw = await asyncio.to_thread(self._fetch)
            if raw != self._last_raw:
                self._last_raw = raw  # remember even if invalid: do not re-log the same values
                flags = FeatureFlags.from_raw(raw)
                if not first_load and flags != self._snapshot:
                    logger.info("Feature flags reloaded from App Configuration")
                self._snapshot = flags
        except Exception as exc:
            if first_load:
                self._last_raw = None
                if isinstance(exc, FlagsError):
                    raise
                raise FlagsError(f"cannot load feature flags from App Configuration: {exc}") from exc
            logger.error(
                "Keeping the previous feature flags, App Configuration refresh failed: %s",
                exc,
                exc_info=not isinstance(exc, FlagsError),
            )

    def _fetch(self) -> dict[str, object]:
        """Connect (first call) or refresh the provider, then read the raw flags.  Runs in a thread."""
        if self._provider is None:
            self._provider = self._connect()
        else:
            self._provider.refresh()
        return self._read(self._provider)

    def _connect(self) -> FlagProvider:
        options: dict[str, Any] = {
            "selects": [
                SettingSelector(key_filter=f"{self._prefix}*", label_filter=lb) for lb in self._labels
            ],
            "trim_prefixes": [self._prefix] if self._prefix else [],
            # Without refresh_on (sentinel keys) the provider only refreshes when told so explicitly;
            # it then re-lists the selected keys when their page etags changed.
            "refresh_enabled": True,
            "refresh_interval": max(1, int(self._ttl)),
            "feature_flag_enabled": self._use_feature_flags,
            "feature_flag_refresh_enabled": self._use_feature_flags,
            "startup_timeout": self._startup_timeout,
        }
        if self._use_feature_flags:
            options["feature_flag_selectors"] = [
                SettingSelector(key_filter=name, label_filter=lb)
                for lb in self._labels
                for name in _BOOL_FLAGS
            ]
        if self._connection_string is not None:
            return self._loader(connection_string=self._connection_string, **options)
        credential = self._credential or self._owned_credential  # reuse ours after a failed start
        if credential is None:
            from azure.identity import DefaultAzureCredential  # noqa: PLC0415 - only when needed

            credential = self._owned_credential = DefaultAzureCredential()
        return self._loader(endpoint=self._endpoint, credential=credential, **options)

    def _read(self, provider: FlagProvider) -> dict[str, object]:
        data = {key: provider[key] for key in list(provider)}
        raw: dict[str, object] = {}
        for key, value in data.items():
            if key != FEATURE_MANAGEMENT_KEY:
                raw[key.removeprefix(self._prefix)] = value
        if self._use_feature_flags and isinstance(data.get(FEATURE_MANAGEMENT_KEY), Mapping):
            manager = FeatureManager(data)
            for name in manager.list_feature_flag_names():
                if name in _BOOL_FLAGS:
                    if name in raw:
                        logger.debug("Flag %s is a key-value and a feature flag; the feature flag wins", name)
                    # featuremanagement only declares the (id, user_id) overload; no user is a valid call.
                    raw[name] = manager.is_enabled(name)  # type: ignore[call-overload]
        return raw


__all__ = ["DEFAULT_KEY_PREFIX", "AppConfigFlagSource", "FlagProvider", "ProviderLoader"]
