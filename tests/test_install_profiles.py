"""`make demo` installs only what the demo needs; `make test` adds the test tools.

The real Makefile and scripts/install-system-packages.sh run in a scratch copy of the project on a
PATH without Chromium, Node.js, npm, redis-server or espeak-ng: `apt-get`, `sudo`, the venv's python
and `callcenter` are logging stand-ins (installing for real needs root and the network), everything
else is the machine's own (bash, make, sort, touch).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_TOOLS = ("chromium", "nodejs", "npm", "redis-server")
REAL_TOOLS = ("bash", "sh", "sort", "touch", "id", "cat", "dirname", "env")


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the Makefile and scripts, a fake venv and a PATH holding only basic tools + fakes."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", root / "Makefile")
    for script in (REPO / "scripts").glob("*.sh"):
        shutil.copy(script, root / "scripts" / script.name)
    for requirements in REPO.glob("requirements*.txt"):
        (root / requirements.name).write_text("")
    (root / "pyproject.toml").write_text("")
    log = root / "calls.log"
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    _script(venv / "python", f'echo "python $*" >> {log}')
    _script(venv / "callcenter", f'echo "callcenter $*" >> {log}')
    _script(venv / "pytest", f'echo "pytest $*" >> {log}')
    bin_dir = root / "fake-bin"
    bin_dir.mkdir()
    for tool in REAL_TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    _script(bin_dir / "apt-get", f'echo "apt-get $*" >> {log}')
    _script(bin_dir / "sudo", f'echo "sudo" >> {log}; "$@"')
    return root


def _make(project: Path, target: str) -> tuple[str, str]:
    make = shutil.which("make")
    assert make is not None
    env = {"PATH": str(project / "fake-bin"), "HOME": str(project), "DRY_RUN": "0"}
    result = subprocess.run(
        [make, "--no-print-directory", target],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = project / "calls.log"
    return result.stdout + result.stderr, log.read_text() if log.exists() else ""


def test_make_demo_on_a_machine_without_chromium_or_node_installs_only_espeak(project: Path) -> None:
    output, calls = _make(project, "demo")
    assert "apt-get install" in calls and "espeak-ng" in calls, output
    assert not any(tool in calls for tool in TEST_TOOLS), calls
    assert "install-node-tools" not in output and "azurite" not in output.lower(), output
    assert "callcenter demo" in calls, output
    assert "install 1/3" in output and "install 3/3" in output  # progress lines
    assert (project / ".venv" / ".installed-demo").exists()
    assert not (project / ".venv" / ".installed").exists()  # the test tools' stamp


def test_make_test_adds_the_test_tools_to_the_demo_install(project: Path) -> None:
    output, calls = _make(project, "test")
    installs = [line for line in calls.splitlines() if line.startswith("apt-get install")]
    assert len(installs) == 2, calls  # the demo profile, then the test profile
    assert "espeak-ng" in installs[0] and not any(tool in installs[0] for tool in TEST_TOOLS)
    assert all(tool in installs[1] for tool in TEST_TOOLS), installs
    # Node.js is still missing on this fake machine: the Azurite step says so and stops the target
    assert "'node' is not on PATH" in output
    assert "pytest" not in calls


@pytest.mark.parametrize(
    ("profile", "present", "expected"),
    [
        ("demo", (), "would install espeak-ng"),
        ("demo", ("espeak-ng",), "all present"),
        ("test", ("espeak-ng",), "would install chromium nodejs npm redis-server"),
        ("test", (), "would install chromium espeak-ng nodejs npm redis-server"),
    ],
)
def test_the_install_script_profiles(
    project: Path, profile: str, present: tuple[str, ...], expected: str
) -> None:
    for command in present:
        _script(project / "fake-bin" / command, "true")
    result = subprocess.run(
        ["bash", str(project / "scripts" / "install-system-packages.sh"), profile],
        env={"PATH": str(project / "fake-bin"), "DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"system packages ({profile}): {expected}"
    assert not (project / "calls.log").exists()  # a dry run changes nothing


def test_an_unknown_profile_is_refused(project: Path) -> None:
    result = subprocess.run(
        ["bash", str(project / "scripts" / "install-system-packages.sh"), "everything"],
        env={**os.environ, "DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "unknown profile 'everything'" in result.stderr
