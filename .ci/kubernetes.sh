#!/usr/bin/env bash
# Validates the Kubernetes manifests (integrations/kubernetes, docs/kubernetes.md) without a
# cluster, kubectl or kustomize: integrations/kubernetes/render.py builds each kustomization
# the way `kubectl kustomize` does, and every document it yields is checked against the
# OpenAPI schemas of one Kubernetes release, strictly (an unknown or misspelt field fails,
# and so does a kind the schemas do not know), with kubernetes-validate from PyPI, pinned,
# in the project's virtual environment outside the clone (as .ci/python.sh installs its own).
#
#   bash .ci/kubernetes.sh [--json FILE] [PATH]
#
# PATH: a kustomization directory or a YAML file; without it, integrations/kubernetes/base,
# the example overlay and the example Secrets. --json FILE: the rendered documents of the
# first path, as one JSON array. Exits non-zero naming every failure.
set -euo pipefail

KUBERNETES_VALIDATE=1.37.0
KUBERNETES_VERSION=1.37.0

root="$(cd "$(dirname "$0")/.." && pwd)"
json_out=
paths=()
while [ $# -gt 0 ]; do
    case "$1" in
        --json) json_out="${2:?--json needs a file}"; shift 2 ;;
        -*) echo "kubernetes.sh: unknown option $1" >&2; exit 2 ;;
        *) paths+=("$1"); shift ;;
    esac
done
if [ ${#paths[@]} -eq 0 ]; then
    paths=("$root/integrations/kubernetes/base" "$root/integrations/kubernetes/example"
        "$root/integrations/kubernetes/admission"
        "$root/integrations/kubernetes/secret.example.yaml")
fi

sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "installing Debian's python3-venv"
    sudo_if apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq python3-venv >/dev/null
fi

venv="${ANDON_PY_VENV:-/var/tmp/andon-py}"
installed() {
    "$venv/bin/python" -c "import yaml, kubernetes_validate.version as v; assert v.__version__ == '$KUBERNETES_VALIDATE'" 2>/dev/null
}
if ! installed; then
    # One installer at a time: tests run this script in parallel.
    mkdir -p "$(dirname "$venv")"
    exec 9>"$venv.kubernetes.lock"
    command -v flock >/dev/null && flock 9
    if ! installed; then
        # PyYAML, which render.py reads with, comes with it.
        echo "installing kubernetes-validate $KUBERNETES_VALIDATE into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "kubernetes-validate==$KUBERNETES_VALIDATE"
    fi
    exec 9>&-
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
first=1
for path in "${paths[@]}"; do
    shown="${path#"$root"/}"
    rendered="$work/rendered.json"
    if ! "$venv/bin/python" "$root/integrations/kubernetes/render.py" "$path" --json >"$rendered"; then
        echo "kubernetes: FAILED to render $shown" >&2
        failed=1
        continue
    fi
    if [ -n "$json_out" ] && [ "$first" = 1 ]; then
        cp "$rendered" "$json_out"
    fi
    first=0
    if ! "$venv/bin/python" - "$rendered" "$shown" "$KUBERNETES_VERSION" <<'PY'
import json
import sys

import kubernetes_validate.utils as kv

rendered, path, version = sys.argv[1:]
docs = json.load(open(rendered))
problems = []
if not docs:
    problems.append("no documents")
for d in docs:
    what = f"{d.get('kind')} {d.get('metadata', {}).get('name')}"
    try:
        kv.validate(d, version, strict=True)
    except kv.ValidationError as e:
        at = ".".join(str(p) for p in e.path) or "(top)"
        problems.append(f"{what}: {at}: {e.message}")
    except (kv.SchemaNotFoundError, kv.InvalidSchemaError, kv.VersionNotSupportedError) as e:
        problems.append(f"{what}: {e.message}")
for p in problems:
    print(f"kubernetes: {path}: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"kubernetes: {path}: {len(docs)} documents valid against Kubernetes {version} (strict)")
PY
    then
        echo "kubernetes: FAILED: $shown does not validate against Kubernetes $KUBERNETES_VERSION" >&2
        failed=1
    fi
done
exit "$failed"
