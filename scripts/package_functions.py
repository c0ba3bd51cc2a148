"""Zip the function app for `az functionapp deployment source config-zip` (scripts/deploy.sh), leaving out
what `.funcignore` lists, as Azure Functions Core Tools would: `python3 scripts/package_functions.py OUT.zip`.

The files are the repository's (tracked, or new and not git-ignored); `.funcignore` patterns follow the
gitignore forms it uses: `name` (a file or folder anywhere), `name/` (a folder anywhere), `/path` (from
the root), `*` wildcards, `#` comments.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("function_app.py", "host.json", "requirements.txt")


def ignore_patterns(funcignore: Path) -> list[str]:
    lines = funcignore.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(path: str, patterns: Iterable[str]) -> bool:
    """Whether `path` (relative, with '/') or one of its folders matches a pattern."""
    parts = path.split("/")
    for raw in patterns:
        anchored, folder_only = raw.startswith("/"), raw.endswith("/")
        pattern = raw.strip("/")
        for depth in range(1, len(parts) + 1):
            if folder_only and depth == len(parts):
                break  # `name/` matches folders only
            candidate = "/".join(parts[:depth])
            target = candidate if anchored or "/" in pattern else parts[depth - 1]
            if fnmatch.fnmatchcase(target, pattern):
                return True
    return False


def package_files(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607 (git on PATH)
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    funcignore = root / ".funcignore"
    if not funcignore.is_file():
        raise SystemExit(
            "package_functions: .funcignore is missing (it keeps tests and tools out of the package)"
        )
    patterns = ignore_patterns(funcignore)
    files = sorted(path for path in listed if (root / path).is_file() and not ignored(path, patterns))
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        raise SystemExit(f"package_functions: the package would lack {', '.join(missing)} (.funcignore?)")
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 scripts/package_functions.py OUT.zip", file=sys.stderr)
        return 2
    files = package_files(ROOT)
    with zipfile.ZipFile(argv[0], "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            archive.write(ROOT / name, name)
    print(f"package_functions: {len(files)} files in {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
