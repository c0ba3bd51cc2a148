"""App settings as the Azure Functions host reads them, and binding connections resolved its way.

The host reads app settings (environment variables; `Values` of local.settings.json under `func start`)
through .NET configuration: `__` in a name is a section separator (`A__B` is key `B` of section `A`) and
names are case-insensitive. A binding's `connection` names a section: its own value is a connection
string; otherwise its children (`queueServiceUri`, `serviceUri`, `accountName`, with `credential` and
`clientId`) configure an identity-based connection. The host also tries the name prefixed with
`AzureWebJobs`, and an empty name means `AzureWebJobsStorage`. A name that resolves to neither leaves
the function "in error", with the wording this module reproduces.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECTION_SEPARATOR = ":"
ENV_SECTION_SEPARATOR = "__"
DEFAULT_STORAGE = "AzureWebJobsStorage"
IDENTITY_URI_KEYS = ("queueServiceUri", "serviceUri", "accountName")


class HostIndexingError(RuntimeError):
    """Functions the host would list as "in error": it starts none of them."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        lines = "\n".join(f"{name}: {error}" for name, error in self.errors.items())
        super().__init__(f"The following {len(self.errors)} functions are in error:\n{lines}")


@dataclass(frozen=True)
class HostSettings:
    """App settings keyed the host's way: `__` read as `:`, names compared without case."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, *layers: Mapping[str, Any]) -> HostSettings:
        """Later layers win, as a later configuration source does in the host."""
        values: dict[str, str] = {}
        for layer in layers:
            for name, value in layer.items():
                if value is not None and str(value) != "":
                    values[str(name).replace(ENV_SECTION_SEPARATOR, SECTION_SEPARATOR).casefold()] = str(
                        value
                    )
        return cls(values)

    @classmethod
    def from_environment(
        cls, local_settings: Path | None = Path("local.settings.json"), *extra: Mapping[str, Any]
    ) -> HostSettings:
        """local.settings.json `Values` (what `func start` exports), the environment, then `extra`."""
        layers: list[Mapping[str, Any]] = []
        if local_settings is not None and local_settings.is_file():
            try:
                document = json.loads(local_settings.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise ValueError(f"{local_settings}: not readable JSON ({exc})") from exc
            values = document.get("Values") if isinstance(document, dict) else None
            if isinstance(values, dict):
                layers.append(values)
        return cls.of(*layers, os.environ, *extra)

    def value(self, key: str) -> str | None:
        """The value at a configuration key (`A:B`); the key is taken as written, `__` included."""
        return self.values.get(key.casefold())

    def children(self, section: str) -> dict[str, str]:
        prefix = section.casefold() + SECTION_SEPARATOR
        return {
            key[len(prefix) :]: value
            for key, value in self.values.items()
            if key.startswith(prefix) and SECTION_SEPARATOR not in key[len(prefix) :]
        }


@dataclass(frozen=True)
class StorageConnection:
    """A resolved storage connection: a connection string, or a service URI with Entra ID."""

    setting: str
    connection_string: str | None = None
    service_uri: str | None = None
    credential: str | None = None
    client_id: str | None = None


def _queue_service_uri(children: Mapping[str, str]) -> str | None:
    if uri := children.get("queueserviceuri") or children.get("serviceuri"):
        return uri
    if account := children.get("accountname"):
        return f"https://{account}.queue.core.windows.net"
    return None


def resolve_storage_connection(connection: str | None, settings: HostSettings) -> StorageConnection:
    """The storage connection a binding names, or ValueError with the host's message."""
    names = [DEFAULT_STORAGE] if not connection else [f"AzureWebJobs{connection}", connection]
    for name in names:
        if value := settings.value(name):
            return StorageConnection(setting=name, connection_string=value)
        children = settings.children(name)
        if uri := _queue_service_uri(children):
            return StorageConnection(
                setting=name,
                service_uri=uri,
                credential=children.get("credential"),
                client_id=children.get("clientid"),
            )
    shown = connection or DEFAULT_STORAGE
    raise ValueError(
        f"Storage account connection string '{shown}' does not exist. "
        "Make sure that it is a defined App Setting."
    )


def indexing_error(function_name: str, extension: str, message: str) -> str:
    return (
        f"Microsoft.Azure.WebJobs.Host: Error indexing method 'Functions.{function_name}'. "
        f"Microsoft.Azure.WebJobs.Extensions.{extension}: {message}"
    )


def never_resolvable(connection: str | None) -> bool:
    """A connection name no app setting can match: the host reads `__` as `:` in every setting name,
    so a name holding `__` is never found, whatever is set."""
    return bool(connection) and ENV_SECTION_SEPARATOR in str(connection)
