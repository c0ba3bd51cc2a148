"""`callcenter chat` with no LLM configured: the form agent fills a claim from typed answers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_chat(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM__", "STORE__", "MODE"))}
    env["STORE__SQLITE__PATH"] = str(tmp_path / "calls.sqlite3")
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "local", "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )


def test_chat_fills_a_claim_from_typed_answers_without_an_llm(tmp_path: Path) -> None:
    schema = tmp_path / "claim.yaml"
    schema.write_text(
        "- {name: caller_name, type: text, description: your full name}\n"
        "- {name: caller_email, type: email}\n"
        "- {name: caller_phone, type: phone_number}\n"
        "- {name: incident_datetime, type: datetime}\n"
    )
    result = run_chat(
        tmp_path,
        [
            "Hello, my car was damaged",
            "My name is John Smith",
            "john dot smith at example dot com",
            "06 12 34 56 78",
            "2026-11-20 at 14:30",
            "no thanks, goodbye",
        ],
        "--claim",
        str(schema),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[agent: form]" in out
    assert "[claim] caller_name = John Smith" in out
    assert "[claim] caller_email = john.smith@example.com" in out
    assert "[claim] caller_phone = +33612345678" in out
    assert "[claim] incident_datetime = 2026-11-20T14:30:00+01:00" in out
    assert "Goodbye" in out
    rows = sqlite3.connect(tmp_path / "calls.sqlite3").execute("SELECT doc FROM calls").fetchall()
    assert len(rows) == 1 and "john.smith@example.com" in rows[0][0]


def test_chat_resumes_the_conversation_of_the_same_caller(tmp_path: Path) -> None:
    first = run_chat(tmp_path, ["I lost my phone", "My name is Ana Lopez", "/quit"])
    assert first.returncode == 0, first.stderr
    second = run_chat(tmp_path, ["ana at example dot com", "/quit"])
    assert "resuming the conversation" in second.stdout
    assert "[claim] caller_email = ana@example.com" in second.stdout


def test_chat_rejects_a_bad_claim_schema_with_a_clear_message(tmp_path: Path) -> None:
    schema = tmp_path / "claim.yaml"
    schema.write_text("- {name: '1bad name', type: text}\n")
    result = run_chat(tmp_path, [], "--claim", str(schema))
    assert result.returncode == 2
    assert "callcenter chat:" in result.stderr and "Traceback" not in result.stderr


def test_chat_rejects_a_bad_phone_number(tmp_path: Path) -> None:
    result = run_chat(tmp_path, [], "--phone", "12345")
    assert result.returncode == 2
    assert "E.164" in result.stderr
