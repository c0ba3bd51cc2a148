"""The README's walkthrough, run as a newcomer would: `make dev`, then the block the README marks as
tested, every command as written (with the key `make dev` printed), each one succeeding.

It runs in a scratch working directory (so the developer's `.data`, `config.yaml` and
`local.settings.json` are neither used nor touched) and on free ports: the README's default ports
(7071, 7072) are replaced in its URLs by the ones this run got, and `make dev` gets them through
`DEV_ARGS`. `make -o .venv/.installed-demo` skips the install step (the venv is this one).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from local.dev import free_port

REPO = Path(__file__).resolve().parents[1]
MARK = "<!-- tested: tests/test_readme_commands.py"
START_TIMEOUT_S = 180.0
CALLER = "+33611112222"
LINKED = (".venv", "Makefile", "scripts", "pyproject.toml", "requirements.txt", "requirements-dev.txt")


def readme_block() -> str:
    """The bash block right after the README's marker comment."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text[text.index(MARK) :]
    match = re.search(r"```bash\n(.*?)```", after, re.DOTALL)
    assert match is not None, "the README's tested block is missing"
    return match.group(1)


@dataclass
class Dev:
    process: subprocess.Popen[str]
    workdir: Path
    api_port: int
    simulator_port: int
    media_port: int
    output: Path

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def printed_key(self) -> str:
        match = re.search(r"API key\s+(\S+)", self.text())
        assert match is not None, self.text()
        return match.group(1)


def _environment() -> dict[str, str]:
    """The test process's environment without any setting of the project (a newcomer has none)."""
    prefixes = ("MODE", "API__", "REPORT__", "STORE__", "ACS__", "MEDIA__", "BLOBS__", "LLM__", "SMS__")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k != "LOCAL_SETTINGS_PATH"}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def start_dev(workdir: Path, name: str) -> Dev:
    ports = free_port(), free_port(), free_port()
    output = workdir / f"{name}.log"
    make = shutil.which("make")
    assert make is not None
    args = f"--port {ports[0]} --simulator-port {ports[1]} --media-port {ports[2]}"
    handle = output.open("w")
    process = subprocess.Popen(
        [make, "--no-print-directory", "-o", ".venv/.installed-demo", "dev", f"DEV_ARGS={args}"],
        cwd=workdir,
        env=_environment(),
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C goes to make and callcenter, as in a terminal
    )
    dev = Dev(process, workdir, *ports, output)
    deadline = time.monotonic() + START_TIMEOUT_S
    while "Ctrl-C to stop." not in dev.text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_dev(dev)
            pytest.fail(f"make dev did not start:\n{dev.text()}")
        time.sleep(0.5)
    return dev


def stop_dev(dev: Dev) -> None:
    if dev.process.poll() is None:
        os.killpg(dev.process.pid, signal.SIGINT)
        try:
            dev.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(dev.process.pid, signal.SIGKILL)
            dev.process.wait()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("newcomer")
    for name in LINKED:
        (folder / name).symlink_to(REPO / name)
    return folder


@pytest.fixture(scope="module")
def dev(workdir: Path) -> Iterator[Dev]:
    running = start_dev(workdir, "dev")
    try:
        yield running
    finally:
        stop_dev(running)


def _as_run_here(block: str, dev: Dev) -> str:
    return block.replace("127.0.0.1:7071", f"127.0.0.1:{dev.api_port}").replace(
        "127.0.0.1:7072", f"127.0.0.1:{dev.simulator_port}"
    )


def test_the_readme_walkthrough_runs_as_written(dev: Dev) -> None:
    key = dev.printed_key()
    script = "\n".join(
        [
            "set -e",
            "trap 'echo \"+ $BASH_COMMAND\" >&2' DEBUG",  # which command ran last, if one fails
            _as_run_here(readme_block(), dev),
            'echo "KEY-IN-USE=$API__KEY"',
        ]
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=dev.workdir,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    failed = result.stderr.strip().splitlines()[-1:] if result.returncode else []
    assert result.returncode == 0, f"{failed}\n{result.stdout}\n{result.stderr}\n--- make dev:\n{dev.text()}"
    assert f"KEY-IN-USE={key}" in result.stdout  # `callcenter key` gives the key make dev printed
    assert f'"caller_phone":"{CALLER}"' in result.stdout.replace(" ", "")  # the + reached the API
    assert "200" in result.stdout.splitlines()  # the report list opened with ?key=
    # what the typed lines did: the bot heard them and filled the claim
    with httpx.Client(base_url=f"http://127.0.0.1:{dev.api_port}", headers={"x-functions-key": key}) as api:
        deadline = time.monotonic() + 60
        while True:
            calls = api.get("/api/call", params={"phone_number": CALLER}).json()["calls"]
            claim = calls[0]["claim"] if calls else {}
            if claim.get("caller_name") == "John Smith" or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert claim.get("caller_name") == "John Smith", calls
    spoken = [m["content"] for m in calls[0]["messages"] if m["persona"] == "human"]
    assert any("car was damaged" in line.lower() for line in spoken), spoken


def test_a_second_make_dev_says_what_is_wrong_in_one_line(dev: Dev, workdir: Path) -> None:
    make = shutil.which("make")
    assert make is not None
    args = f"--port {dev.api_port} --simulator-port {dev.simulator_port} --media-port {dev.media_port}"
    result = subprocess.run(
        [make, "--no-print-directory", "-o", ".venv/.installed-demo", "dev", f"DEV_ARGS={args}"],
        cwd=workdir,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("callcenter")]
    assert len(errors) == 1 and "already in use" in errors[0] and "make dev" in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_key_and_a_report_link_survive_a_restart(dev: Dev, workdir: Path) -> None:
    key = dev.printed_key()
    with httpx.Client(base_url=f"http://127.0.0.1:{dev.api_port}", headers={"x-functions-key": key}) as api:
        calls = api.get("/api/call", params={"phone_number": CALLER}).json()["calls"]
    assert calls, "the walkthrough's call is missing"
    stop_dev(dev)
    again = start_dev(workdir, "dev-again")
    try:
        assert again.printed_key() == key
        listing = httpx.get(f"http://127.0.0.1:{again.api_port}/api/report", params={"key": key})
        assert listing.status_code == 200 and calls[0]["call_id"] in listing.text
    finally:
        stop_dev(again)
