"""The local stack's secrets, kept in its data folder so they survive restarts.

`callcenter dev` (and the demo) need an API key and a report signing key. A new random key at every
start broke every URL printed before (the report list's `?key=`, the demo's signed report link), so
the first start writes both to `<data>/local-keys.json` (owner-only permissions) and later starts read
them back. Settings still win: `API__KEY` / `REPORT__SIGNING_KEY` (environment, local.settings.json or
config.yaml) are used as given and nothing is written for them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEYS_FILE", "STATE_FILE", "LocalKeys", "local_keys"]

KEYS_FILE = "local-keys.json"
STATE_FILE = "dev.json"  # a running `callcenter dev` writes its URLs here (removed when it stops)


@dataclass(frozen=True)
class LocalKeys:
    api_key: str
    report_signing_key: str


def _read(path: Path) -> dict[str, str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not readable JSON ({exc}); delete it to make new local keys") from exc
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a JSON object; delete it to make new local keys")
    return {k: v for k, v in document.items() if isinstance(k, str) and isinstance(v, str) and v}


def local_keys(data_dir: Path) -> LocalKeys:
    """The data folder's keys, made (and written, mode 0600) the first time they are asked for."""
    path = data_dir / KEYS_FILE
    stored = _read(path)
    keys = {
        "api_key": stored.get("api_key") or secrets.token_urlsafe(24),
        "report_signing_key": stored.get("report_signing_key") or secrets.token_urlsafe(32),
    }
    if keys != stored:
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(keys, handle, indent=2)
        temporary.replace(path)
    return LocalKeys(**keys)
