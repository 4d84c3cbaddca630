#!/usr/bin/env bash
# What the browser tests need: Debian's Chromium and playwright-core (the driver library
# only, no downloaded browsers) with axe-core for the accessibility checks, in a cache
# directory outside the clone. Prints nothing when everything is already there.
set -euo pipefail

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dir="${ANDON_BROWSER_DEPS:-/var/tmp/andon-browser}"
if [ ! -f "$dir/node_modules/playwright-core/package.json" ] || [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    echo "installing playwright-core and axe-core into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" playwright-core@1.56.1 axe-core@4.11.0 >/dev/null
fi
