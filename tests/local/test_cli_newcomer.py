"""The `callcenter` command as a newcomer meets it: help with examples, a version, one clean line for
each mistake (a broken config.yaml, a wrong claim schema, no `callcenter dev` running), stable keys."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from local.keys import KEYS_FILE, local_keys

REPO = Path(__file__).resolve().parents[2]


def callcenter(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefixes = ("LLM__", "STORE__", "MODE", "API__", "REPORT__", "INBOUND__")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = str(REPO)
    env["LOCAL_SETTINGS_PATH"] = str(cwd / "absent.json")
    return subprocess.run(
        [sys.executable, "-m", "local", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip()


def test_help_shows_examples_and_every_command(tmp_path: Path) -> None:
    result = callcenter(tmp_path, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    for command in ("demo", "dev", "call", "say", "key", "chat", "simulate", "settings"):
        assert f"  {command} " in result.stdout or f"callcenter {command}" in result.stdout, command
    assert 'callcenter say "My name is John Smith."' in result.stdout


def test_version(tmp_path: Path) -> None:
    result = callcenter(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.startswith("callcenter 0.")


def test_a_broken_config_yaml_is_one_line_naming_the_place(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("api:\n  key: [unclosed\n")
    error = one_clean_line(callcenter(tmp_path, "settings"))
    assert "config.yaml is not valid YAML at line 3, column 1" in error
    (tmp_path / "config.yaml").write_text("- a list\n- not settings\n")
    error = one_clean_line(callcenter(tmp_path, "settings"))
    assert "config.yaml must hold settings as `name: value` lines" in error


def test_claim_schema_errors_are_in_plain_words(tmp_path: Path) -> None:
    claim = tmp_path / "claim.yaml"
    claim.write_text("name: x\ntype: text\n")
    error = one_clean_line(callcenter(tmp_path, "chat", "--claim", str(claim)))
    assert "claim: a list is expected" in error
    claim.write_text("- name: 1x\n  type: texte\n")
    error = one_clean_line(callcenter(tmp_path, "chat", "--claim", str(claim)))
    assert (
        "claim > item 1 > type: 'texte' is not one of 'text', 'datetime', 'email' or 'phone_number'" in error
    )
    assert "claim > item 1 > name: field name '1x' must start with a letter" in error
    assert "pydantic" not in error and "Input should" not in error
    (tmp_path / "config.yaml").write_text("inbound:\n  claim: {name: x}\n")
    error = one_clean_line(callcenter(tmp_path, "settings"))
    assert "INBOUND__CLAIM: a list is expected" in error


def test_call_and_say_without_a_running_dev_say_how_to_start_it(tmp_path: Path) -> None:
    for args in (("call",), ("say", "hello")):
        error = one_clean_line(callcenter(tmp_path, *args))
        assert error.count("\n") == 0 and "start `make dev` first" in error, error


def test_the_local_keys_are_made_once_kept_private_and_read_back(tmp_path: Path) -> None:
    first = local_keys(tmp_path / "data")
    path = tmp_path / "data" / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_keys(tmp_path / "data") == first
    assert first.api_key != first.report_signing_key and len(first.api_key) >= 24
    assert callcenter(tmp_path, "key", "--data", str(tmp_path / "data")).stdout.strip() == first.api_key
    stored = json.loads(path.read_text())
    path.write_text(json.dumps({"api_key": stored["api_key"]}))  # a missing key is added, the other kept
    again = local_keys(tmp_path / "data")
    assert again.api_key == first.api_key and again.report_signing_key != first.report_signing_key
    path.write_text("{broken")
    with pytest.raises(ValueError, match="delete it to make new local keys"):
        local_keys(tmp_path / "data")
