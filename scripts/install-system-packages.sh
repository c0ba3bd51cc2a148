#!/usr/bin/env bash
# Installs the operating-system packages the tests and local stand-ins need (Debian/Ubuntu).
# Idempotent: does nothing when every command is already present.
set -euo pipefail

# command -> Debian package
declare -A PACKAGES=(
  [redis-server]=redis-server
  [espeak-ng]=espeak-ng
  [node]=nodejs
  [npm]=npm
  [chromium]=chromium
)

missing=()
for command in "${!PACKAGES[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGES[$command]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
