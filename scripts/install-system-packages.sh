#!/usr/bin/env bash
# Installs the operating-system packages a profile needs (Debian/Ubuntu):
#   demo  what `make demo`, `make dev` and `make simulate` need: espeak-ng (the non-English voice)
#   test  the demo's, plus the test tools: redis-server, Node.js + npm (Azurite), Chromium (browser tests)
# Usage: install-system-packages.sh [demo|test] (default: test). Idempotent: installs only what is missing.
# DRY_RUN=1 prints what would be installed and changes nothing.
set -euo pipefail

profile="${1:-test}"

# command -> Debian package, per profile
declare -A PACKAGES=(
  [espeak-ng]=espeak-ng
)
case "$profile" in
  demo) ;;
  test)
    PACKAGES+=(
      [redis-server]=redis-server
      [node]=nodejs
      [npm]=npm
      [chromium]=chromium
    )
    ;;
  *)
    echo "install-system-packages.sh: unknown profile '$profile' (use demo or test)" >&2
    exit 2
    ;;
esac

missing=()
for command in "${!PACKAGES[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGES[$command]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages ($profile): all present"
  exit 0
fi
# a stable order in messages and apt's command line
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort)

if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "system packages ($profile): would install ${missing[*]}"
  exit 0
fi

echo "system packages ($profile): installing ${missing[*]} (apt-get, a minute or two)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "system packages ($profile): installed ${missing[*]}"
