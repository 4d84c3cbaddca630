#!/usr/bin/env bash
# Checks the shipped Prometheus alerting rules (integrations/prometheus) with promtool:
# their syntax, and their unit tests (each alert fires on the series that should raise it
# and stays silent otherwise). promtool comes with Debian's prometheus package, installed
# when missing (its service is not started).
set -euo pipefail

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v promtool >/dev/null; then
    echo "installing Debian's prometheus (for promtool)"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
cd "$(dirname "$0")/../integrations/prometheus"
promtool check rules andon.rules.yml
promtool test rules andon.rules.test.yml
