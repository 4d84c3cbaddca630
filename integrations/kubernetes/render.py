#!/usr/bin/env python3
"""Builds a kustomization the way `kustomize build` (and `kubectl kustomize`) does, for the
few features Andon's manifests use, so CI can validate what an operator would apply without
either tool:

- `resources:` files (each one or more YAML documents) and directories holding a
  kustomization.yaml (an overlay's base), in order;
- `namespace:` set on every namespaced resource;
- `commonLabels:` on every resource's labels and on the selectors and pod templates of
  Deployments, Services and PodDisruptionBudgets (kustomize's own field list for them);
- `labels:` (`pairs`, `includeSelectors`, `includeTemplates`), the same way;
- `images:` (`name`, `newName`, `newTag`, `digest`) on the containers of pod templates.

Any other field of a kustomization.yaml is refused, so a manifest never renders differently
here than in kubectl. Usage:

    render.py PATH [--json]

PATH is a kustomization directory or a plain YAML file. The documents are printed as
multi-document YAML, or as one JSON array with --json.
"""
import copy
import json
import pathlib
import sys

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "commonLabels", "labels", "images"}
# Kinds without a namespace that these manifests could hold.
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass", "ValidatingWebhookConfiguration"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class RenderError(Exception):
    pass


def load_documents(path):
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        raise RenderError(f"{path}: {e}") from e
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise RenderError(f"{path}: a document without kind and apiVersion")
        if not isinstance(d.get("metadata"), dict) or not d["metadata"].get("name"):
            raise RenderError(f"{path}: {d['kind']} without metadata.name")
    return docs


def set_labels(target, key, pairs):
    """Merges pairs into target[key], creating it."""
    existing = target.get(key)
    if existing is None:
        existing = target[key] = {}
    if not isinstance(existing, dict):
        raise RenderError(f"{key} is not a map")
    existing.update(pairs)


def apply_labels(doc, pairs, selectors, templates):
    set_labels(doc["metadata"], "labels", pairs)
    kind, spec = doc["kind"], doc.get("spec") or {}
    if kind in WORKLOADS and (selectors or templates) and "template" in spec:
        set_labels(spec["template"].setdefault("metadata", {}), "labels", pairs)
    if not selectors:
        return
    if kind == "Service":
        set_labels(spec, "selector", pairs)
    elif kind in WORKLOADS - {"Job"} or kind == "PodDisruptionBudget":
        set_labels(spec.setdefault("selector", {}), "matchLabels", pairs)


def split_image(image):
    """name, tag, digest of an image reference (a port in the registry is not a tag)."""
    name, digest = (image.split("@", 1) + [None])[:2]
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest


def apply_images(doc, images):
    pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        name, tag, digest = split_image(container.get("image", ""))
        for image in images:
            if image.get("name") != name:
                continue
            name = image.get("newName", name)
            if "digest" in image:
                tag, digest = None, image["digest"]
            elif "newTag" in image:
                tag, digest = image["newTag"], None
            container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def build(path, seen=()):
    path = pathlib.Path(path).resolve()
    if path.is_file():
        return load_documents(path)
    kfile = path / "kustomization.yaml"
    if not kfile.is_file():
        raise RenderError(f"{path}: neither a YAML file nor a directory with kustomization.yaml")
    if path in seen:
        raise RenderError(f"{path}: a kustomization that includes itself")
    try:
        k = yaml.safe_load(kfile.read_text()) or {}
    except yaml.YAMLError as e:
        raise RenderError(f"{kfile}: {e}") from e
    unknown = sorted(set(k) - SUPPORTED)
    if unknown:
        raise RenderError(
            f"{kfile}: {', '.join(unknown)} not supported by this renderer "
            f"(it knows {', '.join(sorted(SUPPORTED - {'apiVersion', 'kind'}))})"
        )
    if k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(f"{kfile}: kind {k.get('kind')}, not Kustomization")
    docs = []
    for resource in k.get("resources") or []:
        docs += build(path / resource, seen + (path,))
    docs = copy.deepcopy(docs)
    if k.get("commonLabels"):
        for d in docs:
            apply_labels(d, k["commonLabels"], selectors=True, templates=True)
    for entry in k.get("labels") or []:
        unknown = sorted(set(entry) - {"pairs", "includeSelectors", "includeTemplates"})
        if unknown:
            raise RenderError(f"{kfile}: labels field {', '.join(unknown)} not supported")
        for d in docs:
            apply_labels(
                d,
                entry.get("pairs") or {},
                selectors=entry.get("includeSelectors", False),
                templates=entry.get("includeSelectors", False) or entry.get("includeTemplates", False),
            )
    for image in k.get("images") or []:
        unknown = sorted(set(image) - {"name", "newName", "newTag", "digest"})
        if unknown:
            raise RenderError(f"{kfile}: images field {', '.join(unknown)} not supported")
    if k.get("images"):
        for d in docs:
            apply_images(d, k["images"])
    if k.get("namespace"):
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = k["namespace"]
    names = set()
    for d in docs:
        key = (d["apiVersion"], d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])
        if key in names:
            raise RenderError(f"{kfile}: {d['kind']} {d['metadata']['name']} appears twice")
        names.add(key)
    return docs


def main(argv):
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        docs = build(args[0])
    except RenderError as e:
        print(f"render: {e}", file=sys.stderr)
        return 1
    if "--json" in argv:
        json.dump(docs, sys.stdout, indent=1)
        print()
    else:
        yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
