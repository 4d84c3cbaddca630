#!/usr/bin/env bash
# What the interoperability tests need: Debian's OpenSSL and, from PyPI, pinned, in a virtual
# environment outside the clone: the in-toto/securesystemslib reference implementation of
# DSSE, pyca/cryptography, Sigstore's Python verifier with PyPI's attestation tool (the
# reference the Sigstore bundle tests cross-check against), and CycloneDX's own Python library
# (the serializer of the JSON/XML equivalence property), and PyPA's packaging (the PEP 440
# oracle of the version-ordering property). Prints nothing when everything is
# already there.
set -euo pipefail

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v openssl >/dev/null || missing+=(openssl)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="${ANDON_PY_VENV:-/var/tmp/andon-py}"
if ! "$venv/bin/python" -c 'import securesystemslib, cryptography, sigstore, pypi_attestations, cyclonedx, packaging' 2>/dev/null; then
    echo "installing securesystemslib, cryptography, sigstore, pypi-attestations and cyclonedx-python-lib into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "securesystemslib[crypto]==1.6.0" "cryptography==50.0.2" \
        "sigstore==4.5.1" "pypi-attestations==0.0.31" "cyclonedx-python-lib==11.12.0" "packaging==26.4"
fi
