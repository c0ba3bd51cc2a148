#!/usr/bin/env bash
# Installs the Python tools that cannot share .venv into their own virtual environments under .tools/.
# Today: checkov (requirements-checkov.txt), whose dependency pins conflict with the test tools'.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
venv="$root/.tools/checkov"
wanted="$(sed -n 's/^checkov==\([^ ]*\).*/\1/p' "$root/requirements-checkov.txt")"

if [ -x "$venv/bin/checkov" ] && [ "$("$venv/bin/checkov" --version 2>/dev/null)" = "$wanted" ]; then
  echo "python tools: checkov $wanted already installed in .tools/checkov"
  exit 0
fi

echo "python tools: installing checkov $wanted into .tools/checkov (its own virtual environment)"
mkdir -p "$root/.tools"
test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$root/requirements-checkov.txt"

version="$("$venv/bin/checkov" --version 2>/dev/null || true)"
if [ "$version" != "$wanted" ]; then
  echo "python tools: checkov install failed: expected $wanted, found '${version:-nothing}'" >&2
  exit 1
fi
