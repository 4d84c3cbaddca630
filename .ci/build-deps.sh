#!/usr/bin/env bash
# What building Andon needs besides Rust: libxml2's development files (CycloneDX XML is
# validated against its XSD by libxml2) and libclang, with which the libxml crate generates
# its bindings to the installed libxml2. Prints nothing when both are already there.
set -euo pipefail

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists libxml-2.0 2>/dev/null || missing+=(libxml2-dev)
# libclang itself and clang's own headers (stddef.h), which bindgen needs.
dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q 'ok installed' || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq "${missing[@]}" >/dev/null
fi
