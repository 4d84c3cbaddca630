#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for a short while from the real samples.
# cargo-fuzz needs a nightly toolchain; where there is none, this says so loudly and stops
# (the parsers' property tests still run in the stable suite).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "!! NO NIGHTLY TOOLCHAIN: fuzz targets NOT built or run on this machine"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/andon-target}/fuzz"
cargo +nightly fuzz build -O
seconds="${ANDON_FUZZ_SECONDS:-10}"
fixtures=../crates/andon-evidence/tests/fixtures
# Every real sample is a seed, those in subfolders too (not the scripts that made them); two
# samples of the same name in different folders are both kept.
seed() { find "$@" -type f ! -name '*.py' ! -name '*.sh' -exec cp --backup=numbered -t "$corpus"/ {} +; }
for target in $(cargo +nightly fuzz list); do
  corpus=$(mktemp -d)
  case "$target" in
    junit|coverage|sarif|sbom|provenance|secrets|dast) seed "$fixtures/$target" ;;
    # VEX documents (OpenVEX, CSAF) are read as vulnerability evidence.
    vulnerabilities) seed "$fixtures/vulnerabilities" "$fixtures/vex" ;;
    # Each scan alone, and each pair of successive scans joined by a NUL byte (the target
    # compares the two).
    hardening)
      seed "$fixtures/hardening"
      for first in "$fixtures"/hardening/*1.xml; do
        second="${first%1.xml}2.xml"
        if [ -f "$second" ]; then
          { cat "$first"; printf '\0'; cat "$second"; } >"$corpus/pair-$(basename "$first")"
        fi
      done ;;
    # Every CycloneDX and SPDX document, JSON and XML, the specification's schema test suite too.
    schema) seed "$fixtures/sbom" "$fixtures/cyclonedx-spec" "$fixtures/vulnerabilities" \( -name '*.json' -o -name '*.xml' \) ;;
    github|gitlab) cp "$fixtures/webhooks/$target"/* "$corpus"/ ;;
  esac
  cargo +nightly fuzz run -O "$target" "$corpus" -- -max_total_time="$seconds" -print_final_stats=1 >"$corpus.log" 2>&1 || {
    tail -n 40 "$corpus.log"
    echo "fuzz target $target failed"
    exit 1
  }
  echo "fuzz $target: $(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$corpus.log" || echo 'ran') in ${seconds}s, no crash"
  rm -rf "$corpus" "$corpus.log"
done
