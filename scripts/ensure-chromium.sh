#!/usr/bin/env bash
# The browser of the browser tests (the `browser` fixture, tests/python/conftest.py): Debian's `chromium`, installed
# through apt when it is missing (Playwright drives it; it downloads no browser of its own). Quick and silent when it
# is there already.
# As root apt-get runs as it is, otherwise through sudo; with neither, or without apt, it fails saying what to do.
set -euo pipefail

CHROMIUM="${COGITO_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ -n "${COGITO_CHROMIUM:-}" ]; then
    echo "ensure-chromium: COGITO_CHROMIUM=$CHROMIUM is not an executable browser" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "ensure-chromium: $CHROMIUM is missing and this machine has no apt-get: install Chromium and set" \
         "COGITO_CHROMIUM to its executable (the browser tests need it)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "ensure-chromium: $CHROMIUM is missing, and installing it needs root or sudo:" \
         "run 'apt-get install chromium' as root (the browser tests need it)" >&2
    exit 1
fi

echo "ensure-chromium: installing Debian's chromium for the browser tests (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# No recommends: a headless browser needs neither the sandbox helper nor the desktop's extras; fonts come with
# fontconfig (fonts-dejavu-core).
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure-chromium: apt-get installed chromium but $CHROMIUM is not there" >&2
    exit 1
fi
