#!/usr/bin/env bash
# Installs the Node.js tools the tests need into the project-local folder .tools/ (not global).
# Today: Azurite (the Azure Storage emulator), pinned to an exact version; the job-queue tests run against it.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

AZURITE_VERSION="3.35.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/node_modules/.bin/azurite-queue"
manifest="$tools/node_modules/azurite/package.json"

for command in node npm; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "node tools: '$command' is not on PATH; install Node.js 20 or newer (with npm), then rerun $0" >&2
    exit 1
  fi
done

installed_version() {
  # Prints the installed azurite version, or nothing when it is absent or unreadable.
  [ -f "$manifest" ] || return 0
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest" 2>/dev/null || true
}

if [ -x "$bin" ] && [ "$(installed_version)" = "$AZURITE_VERSION" ]; then
  echo "node tools: azurite $AZURITE_VERSION already installed in .tools/"
  exit 0
fi

echo "node tools: installing azurite@$AZURITE_VERSION into .tools/"
mkdir -p "$tools"
npm install --prefix "$tools" --no-audit --no-fund --save-exact --loglevel=error "azurite@$AZURITE_VERSION"

version="$(installed_version)"
if [ ! -x "$bin" ] || [ "$version" != "$AZURITE_VERSION" ]; then
  echo "node tools: azurite install failed: expected $AZURITE_VERSION at $bin, found '${version:-nothing}'" >&2
  exit 1
fi
echo "node tools: azurite $AZURITE_VERSION installed"
