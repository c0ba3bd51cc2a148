"""The function app package `make deploy` publishes (scripts/package_functions.py with .funcignore)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scripts.package_functions import ignored, package_files
from tests.infra.project import REPO


def test_funcignore_patterns_match_like_the_functions_tools() -> None:
    patterns = ["tests/", "__pycache__/", "*.pyc", "requirements-*.txt", "/build", "Makefile"]
    assert ignored("tests/infra/test_package.py", patterns)
    assert ignored("shared/store/__pycache__/cosmos.cpython-311.pyc", patterns)
    assert ignored("requirements-dev.txt", patterns)
    assert ignored("build/lib/x.py", patterns)
    assert ignored("Makefile", patterns)
    assert not ignored("requirements.txt", patterns)
    assert not ignored("shared/tests_helper.py", patterns)  # a folder pattern is a whole path component
    assert not ignored("shared/build/x.py", patterns)  # an anchored pattern is from the root only
    assert not ignored("shared/tests", ["tests/"])  # `name/` matches folders, not a file of that name


def test_the_package_holds_every_repository_module_the_function_app_imports_and_no_tests() -> None:
    files = set(package_files(REPO))
    assert {"function_app.py", "host.json", "requirements.txt"} <= files
    assert not [name for name in files if name.startswith(("tests/", "local/", ".venv/", "infra/", "bench/"))]
    imported = subprocess.run(  # a fresh interpreter: what the Functions worker loads from the package
        [
            sys.executable,
            "-c",
            "import json, sys, function_app; "
            "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    ours = {
        str(Path(path).relative_to(REPO))
        for path in json.loads(imported.stdout.splitlines()[-1])
        if path and Path(path).is_relative_to(REPO) and not Path(path).is_relative_to(REPO / ".venv")
    }
    assert "blueprints/calls.py" in ours
    assert sorted(ours - files) == []
