"""`callcenter call`, `callcenter say` and `callcenter key`: a running `callcenter dev`, from a terminal.

`callcenter dev` writes its URLs to `<data>/dev.json` and keeps its keys in `<data>/local-keys.json`
(local/keys.py), so these commands find the stack and authenticate without any copy and paste. Every
failure is a `ClientError` with one line saying what to do.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from local.keys import STATE_FILE, local_keys
from shared.settings import Settings

__all__ = ["ClientError", "DevStack", "api_key", "dev_stack", "place_call", "ring_bot", "say"]

TIMEOUT_S = 30.0
DEFAULT_TASK = "Help the customer with their insurance claim and fill it in."

Printer = Callable[[str], None]


class ClientError(RuntimeError):
    """A one-line reason the command could not do its job (and how to fix it)."""


@dataclass(frozen=True)
class DevStack:
    api_url: str
    simulator_url: str


def dev_stack(data_dir: Path) -> DevStack:
    """The URLs of the `callcenter dev` running on `data_dir`."""
    path = data_dir / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return DevStack(str(state["api_url"]), str(state["simulator_url"]))
    except FileNotFoundError:
        raise ClientError(
            f"no `callcenter dev` is running on {data_dir} ({path} is missing): start `make dev` first"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ClientError(f"{path} is unreadable ({exc}): restart `make dev`") from None


def api_key(settings: Settings, data_dir: Path) -> str:
    """The key `callcenter dev` uses: API__KEY when set, else the data folder's local key."""
    if settings.api.key is not None:
        return settings.api.key.get_secret_value()
    return local_keys(data_dir).api_key


def _send(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = httpx.request(method, url, timeout=TIMEOUT_S, **kwargs)
    except httpx.HTTPError as exc:
        raise ClientError(f"{url} did not answer ({exc}): is `make dev` still running?") from None
    if response.status_code >= 400:
        raise ClientError(f"{method} {url} answered {response.status_code}: {_reason(response)}")
    return response


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        detail = body.get("detail") or (error.get("message") if isinstance(error, dict) else error)
        if isinstance(detail, list):
            return "; ".join(str(item) for item in detail)
        if detail:
            return str(detail)
    return json.dumps(body)[:300]


def ring_bot(stack: DevStack, *, caller: str | None, bot_phone: str, echo: Printer) -> str:
    """A caller rings the bot through the simulator (an inbound call); returns its call connection id."""
    number = caller or f"+336{secrets.randbelow(10**8):08d}"
    answer = _send(
        "POST", f"{stack.simulator_url}/sim/calls/incoming", json={"from": number, "to": bot_phone}
    ).json()
    connection = str(answer["callConnectionId"])
    echo(f"{number} is ringing the bot ({bot_phone}); call connection {connection}")
    return connection


def place_call(
    stack: DevStack,
    key: str,
    *,
    to: str,
    bot_name: str,
    company: str,
    task: str | None,
    claim: list[dict[str, Any]] | None,
    echo: Printer,
) -> dict[str, Any]:
    """The bot calls `to` (`POST /api/call`, an outbound call); returns the call document."""
    body: dict[str, Any] = {
        "phone_number": to,
        "bot_name": bot_name,
        "bot_company": company,
        "task": task or DEFAULT_TASK,
    }
    if claim is not None:
        body["claim"] = claim
    call: dict[str, Any] = _send(
        "POST", f"{stack.api_url}/api/call", json=body, headers={"x-functions-key": key}
    ).json()
    echo(f"the bot ({bot_name}, {company}) is calling {to}; call {call.get('call_id')}")
    return call


def say(stack: DevStack, text: str, *, call: str, lang: str, echo: Printer) -> None:
    """Speak `text` as the caller on the simulator's call (`latest`: the newest call still going)."""
    answer = _send(
        "POST", f"{stack.simulator_url}/sim/calls/{call}/say", json={"text": text, "lang": lang}
    ).json()
    echo(f"said into call {answer.get('callConnectionId', call)} ({answer.get('seconds', '?')} s of speech)")
