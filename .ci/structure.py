#!/usr/bin/env python3
"""The layering rules of docs/architecture.md, checked on the source tree.

1. A module under crates/andon-server/src/routes/ imports no other routes module.
2. Nothing under crates/andon-server/src/web/ imports routes; no job of andon-app does
   (andon-app cannot: rule 3).
3. andon-app depends on no HTTP crate (axum, hyper, tower, http).
4. No import circle between the modules (files) of andon-server or of andon.
5. No source file over 600 lines outside tests.

Exits non-zero naming every breach.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = ROOT / "crates"
MAX_LINES = 600
problems = []


def rust_files(src):
    return sorted(p for p in src.rglob("*.rs"))


def module_path(src, f):
    """A file's module path inside its crate: ['routes', 'changes'] for routes/changes.rs."""
    parts = list(f.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts in (["lib"], ["main"]):
        parts = []
    return parts


def code_of(f):
    """The file without comments and string literals, so only code is searched."""
    text = f.read_text()
    # A file's unit tests come last (clippy's items_after_test_module): they are not layers.
    text = text.split("#[cfg(test)]", 1)[0]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def references(src, f, modules):
    """The modules of the crate that `f` names, by `crate::`, `super::` or `self::` paths."""
    here = module_path(src, f)
    code = code_of(f)
    found = set()
    for m in re.finditer(r"\b(crate|super|self)((?:::(?:\w+|\*))+)", code):
        head, rest = m.group(1), [s for s in m.group(2).split("::") if s]
        if head == "crate":
            path = []
        elif head == "self":
            path = here[:]
        else:
            path = here[:-1]
        while rest and rest[0] == "super":
            rest = rest[1:]
            path = path[:-1]
        path = path + [s for s in rest if s != "*"]
        # The longest prefix that is a module of the crate (a glob names the module itself).
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in modules:
                found.add(tuple(path[:n]))
                break
    # Paths relative to this module: `child::item`, `use child::{..}`.
    for m in re.finditer(r"(?<![:\w])(\w+)::", code):
        target = tuple(here + [m.group(1)])
        if target in modules:
            found.add(target)
    # `use super::{a, b}` and `use crate::x::{a, b}` name modules a and b too.
    for m in re.finditer(r"\b(crate|super)((?:::\w+)*)::\{([^}]*)\}", code):
        prefix = here[:-1] if m.group(1) == "super" else []
        prefix = prefix + [s for s in m.group(2).split("::") if s]
        for item in re.findall(r"\b(\w+)\b", m.group(3)):
            target = tuple(prefix + [item])
            if target in modules:
                found.add(target)
    found.discard(tuple(here))
    return found


def graph(src):
    files = rust_files(src)
    modules = {tuple(module_path(src, f)): f for f in files}
    edges = {}
    for key, f in modules.items():
        if key == ():
            continue  # the crate root only declares and re-exports
        edges[key] = {r for r in references(src, f, modules) if r != ()}
    return modules, edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(m):
    return "::".join(m) or "crate"


# Rules 1 and 2: routes and pages.
server = CRATES / "andon-server" / "src"
modules, edges = graph(server)
for m, targets in edges.items():
    for t in targets:
        if m[:1] == ("routes",) and len(m) > 1 and t[:1] == ("routes",) and len(t) > 1:
            problems.append(f"andon-server: {name(m)} imports {name(t)} (route modules import no other route module)")
        if m[:1] == ("web",) and t[:1] == ("routes",):
            problems.append(f"andon-server: {name(m)} imports {name(t)} (pages call the application, not routes)")

# Rule 3: no HTTP crate under the application layer.
manifest = (CRATES / "andon-app" / "Cargo.toml").read_text()
deps = manifest.split("[dependencies]", 1)[-1].split("\n[", 1)[0]
for crate in ("axum", "hyper", "tower", "tower-http", "http"):
    if re.search(rf"^{re.escape(crate)}\s*=|^{re.escape(crate)}\.workspace", deps, re.M):
        problems.append(f"andon-app depends on {crate} (the application layer holds no HTTP)")

# Rule 4: no circles.
for crate in ("andon-server", "andon"):
    src = CRATES / crate / "src"
    _, e = graph(src)
    for comp in cycles(e):
        problems.append(f"{crate}: import circle between " + ", ".join(name(m) for m in comp))

# Rule 5: file size.
for f in sorted(CRATES.glob("*/src/**/*.rs")):
    n = sum(1 for _ in f.open())
    if n > MAX_LINES:
        problems.append(f"{f.relative_to(ROOT)}: {n} lines (at most {MAX_LINES} outside tests)")

for p in problems:
    print(p)
if problems:
    print(f"structure: {len(problems)} problem(s); see docs/architecture.md")
    sys.exit(1)
print("structure: routes, pages, the application layer, circles and file sizes as docs/architecture.md says")
