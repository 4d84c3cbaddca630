#!/usr/bin/env bash
# A bounded schemathesis run against a live server's own OpenAPI description: requests
# generated from it, valid and invalid, as the admin and with broken tokens. Any 5xx, an
# undocumented status or media type, a missing required header accepted, an invalid body
# accepted, or a route that works without its token fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${ANDON_CI_VENV:-/var/tmp/andon-ci-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==4.*"
fi

bin="$CARGO_TARGET_DIR/debug/andon"
cargo build --quiet -p andon
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --auth-failure-limit 1000000 \
    --github-webhook-secret schemathesis --gitlab-webhook-token schemathesis \
    >"$data/serve.out" 2>"$data/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do
    grep -q ANDON_TOKEN= "$data/serve.out" 2>/dev/null && break
    sleep 0.1
done
token=$(sed -n 's/^ANDON_TOKEN=//p' "$data/serve.out")
[ -n "$token" ] || { echo "the server did not start"; cat "$data/serve.err"; exit 1; }

"$venv/bin/schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,negative_data_rejection,missing_required_header,unsupported_method,ignored_auth \
    --phases examples,coverage,fuzzing \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
    --workers 2 --warnings off --seed 20261124
