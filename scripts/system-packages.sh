#!/usr/bin/env bash
# Install the Debian packages shadowqa's tests need, if any are missing.
# Usage: scripts/system-packages.sh PACKAGE[:COMMAND] ...
#   e.g. scripts/system-packages.sh chromium:chromium
# A package is skipped when its COMMAND (default: the package name) is on PATH.
set -euo pipefail

missing=()
for item in "$@"; do
  pkg="${item%%:*}"
  cmd="${item#*:}"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to apt-get install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
