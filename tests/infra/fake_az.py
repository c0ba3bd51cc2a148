"""A stand-in for the Azure CLI (`az`) and `curl`, for running scripts/deploy.sh where Azure cannot be
reached: it answers the commands the script uses the way the real CLI does (exit codes, `--output tsv`
lines, `--query properties.outputs --output json` objects) and records every call, one JSON line each.

Stage 1's outputs are main.bicep's own output names, so the script can only read outputs the template
declares. Environment: FAKE_AZ_LOG (the record), FAKE_AZ_OUTPUTS (stage 1's outputs as JSON).
Usage: `python fake_az.py az ARGS...` or `python fake_az.py curl ARGS...`.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def _say(text: str, code: int = 0) -> int:
    print(text)
    return code


def _deploy(args: list[str]) -> int:
    template = Path(option(args, "--template-file") or "")
    if not template.is_file():
        print(f"ERROR: template {template} not found", file=sys.stderr)
        return 1
    if template.name == "main.bicep":
        print(Path(os.environ["FAKE_AZ_OUTPUTS"]).read_text(encoding="utf-8"))
    return 0


def _publish(args: list[str]) -> int:
    with zipfile.ZipFile(option(args, "--src") or "") as archive:
        if "function_app.py" not in archive.namelist():
            print("ERROR: the package has no function_app.py", file=sys.stderr)
            return 1
    return 0


def _functions(args: list[str]) -> int:
    app = option(args, "--name")
    return _say(f"{app}/incoming_call\n{app}/sms_received")


# the command (its first words) -> what the real CLI does for the script
COMMANDS: dict[tuple[str, ...], Callable[[list[str]], int]] = {
    ("account", "show"): lambda _args: 0,
    ("group", "show"): lambda _args: 3,  # ResourceGroupNotFound
    ("group", "create"): lambda _args: 0,
    ("ad", "signed-in-user", "show"): lambda _args: _say("11111111-2222-3333-4444-555555555555"),
    ("deployment", "group", "create"): _deploy,
    ("keyvault", "secret", "show"): lambda _args: 3,  # SecretNotFound: the script makes it
    ("keyvault", "secret", "set"): lambda _args: 0,
    ("acr", "build"): lambda _args: 0,
    ("functionapp", "deployment", "source", "config-zip"): _publish,
    ("functionapp", "function", "list"): _functions,
    ("monitor", "log-analytics", "workspace", "list"): lambda _args: _say(
        "00000000-aaaa-bbbb-cccc-000000000000"
    ),
    ("monitor", "log-analytics", "query"): lambda _args: _say(
        "2026-01-01T10:00:00Z\tmedia\tstdout\tcall answered"
    ),
}


def az(args: list[str]) -> int:
    for words, handler in COMMANDS.items():
        if tuple(args[: len(words)]) == words:
            return handler(args)
    print(f"ERROR: the fake az does not know {' '.join(args[:4])!r}", file=sys.stderr)
    return 2


def main() -> int:
    tool, args = sys.argv[1], sys.argv[2:]
    with open(os.environ["FAKE_AZ_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps([tool, *args]) + "\n")
    return az(args) if tool == "az" else 0  # curl: every health route answers 200


if __name__ == "__main__":
    raise SystemExit(main())
