#!/usr/bin/env bash
# Install the Debian packages shadowqa's tests need, if any are missing.
# Usage: scripts/system-packages.sh PACKAGE[:COMMAND] ...
#   e.g. scripts/system-packages.sh chromium:chromium 'postgresql:/usr/lib/postgresql/*/bin/postgres'
# A package is skipped when its COMMAND (default: the package name) is on PATH; a COMMAND with a slash
# is a path or glob instead (for programs outside PATH), and the package is skipped when it matches a file.
set -euo pipefail

missing=()
for item in "$@"; do
  pkg="${item%%:*}"
  cmd="${item#*:}"
  if [[ "$cmd" == */* ]]; then
    compgen -G "$cmd" >/dev/null || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
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
