#!/usr/bin/env bash
# What the identity tests need: a real OpenID provider, panva's oidc-provider (OpenID Certified),
# run on Node.js by crates/andon-testkit/oidc/provider.mjs, installed in a cache directory outside
# the clone. Prints nothing when everything is already there.
set -euo pipefail

# Pinned (see crates/andon-testkit/oidc/README.md): the newest release at the time of pinning.
# Its code needs Node.js 20.18 or later (URL.parse, crypto.hash).
version=9.13.3

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)'; then
    echo "oidc-provider $version needs Node.js 20.18 or later; this machine has $(node --version)" >&2
    exit 1
fi

dir="${ANDON_OIDC_DEPS:-/var/tmp/andon-oidc}"
if ! grep -qs "\"version\": \"$version\"" "$dir/node_modules/oidc-provider/package.json"; then
    echo "installing oidc-provider $version into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "oidc-provider@$version" >/dev/null
fi
