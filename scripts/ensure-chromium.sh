#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the end-to-end tests. Playwright drives it at
# /usr/bin/chromium; it never downloads a browser of its own. Idempotent: a second run only prints
# the version.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium: /usr/bin/chromium is missing and this user cannot install packages." >&2
  echo "Install it once as root:  apt-get update && apt-get install -y chromium" >&2
  exit 1
fi

echo "chromium: not installed; installing Debian's chromium package (this takes a minute or two)..."
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
