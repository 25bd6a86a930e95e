#!/bin/sh
# Makes sure a Chromium for the browser tests is there; prints its path.
# Usage: sh scripts/ensure-chromium.sh
# Playwright cannot download its own browser build here, so the tests drive the system's
# Chromium (CHROMIUM_PATH, default /usr/bin/chromium) through playwright-core.
set -eu
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$path" ]; then
  echo "$path"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium package" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  if [ -x "$path" ]; then
    echo "$path"
    exit 0
  fi
fi
cat >&2 <<MSG
ensure-chromium: no Chromium at $path.
Install it as root, for example on Debian or Ubuntu:
  sudo apt-get update && sudo apt-get install -y chromium
or point CHROMIUM_PATH at an installed Chromium or Chrome binary.
MSG
exit 1
