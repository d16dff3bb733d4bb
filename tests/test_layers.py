"""The dependency order of the apps, read from the imports (issue 8), written once and kept by CI.

Bottom up: the kernel (``kernel``: errors, the audit log, the progress bar; ``mail``: the mail core;
and the helpers at the top of the package) → ``catalog`` → ``directory`` → the capabilities (``lists``, ``repository`` and later
``alerts``, ``openpgp``, ``monitor``, ``playbooks``) → the doors (``web``, ``api``, ``ops``, the CLI
helpers and every app's ``management/`` commands). A module may import its own app and any app of a
lower layer; a capability never imports another capability. Imports inside functions count too:
hiding one there does not change what depends on what.

An import that must break the order for a while is listed in :data:`KNOWN` with the work that
removes it (none is, today). The list only shrinks: a new violation fails
:func:`test_no_app_imports_one_above_it`, and a listed one that is gone fails
:func:`test_known_violations_are_still_there` until it is struck off here. A lower layer that needs
something of a higher one offers a hook the higher one fills when it starts (the intake's routes,
the audit writer, the directory listing's annotations, the repository's key look-up).

Also kept here: no circle among module-level imports (:func:`test_no_import_circles`), and no import
inside a function without a ``# lazy:`` comment saying why it must be lazy
(:func:`test_every_import_inside_a_function_says_why_it_is_lazy`).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "tldops"

KERNEL, CATALOG, DIRECTORY, CAPABILITY, DOOR = range(5)

LAYER = {
    # Shared helpers at the top of the package, below every app.
    "config": KERNEL,
    "csvcells": KERNEL,
    "htmltext": KERNEL,
    "kernel": KERNEL,
    "mail": KERNEL,
    "catalog": CATALOG,
    "directory": DIRECTORY,
    "lists": CAPABILITY,
    "repository": CAPABILITY,
    "alerts": CAPABILITY,
    "openpgp": CAPABILITY,
    "monitor": CAPABILITY,
    "playbooks": CAPABILITY,
    "web": DOOR,
    "api": DOOR,
    "ops": DOOR,
    "cli": DOOR,
    "urls": DOOR,
    "settings": DOOR,
    "wsgi": DOOR,
    "__main__": DOOR,
    "asgi": DOOR,
    "__init__": KERNEL,  # the package itself
}

#: (importing module, imported app) pairs that break the order, each with the move that removes it.
#: None is left; one may be added only together with the work that will strike it off.
KNOWN: dict[tuple[str, str], str] = {}


def _app_of(module: str) -> str:
    """``tldops.mail.outbox`` → ``lists``; ``tldops.cli`` → ``cli``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer_of_file(path: Path) -> tuple[str, int]:
    rel = path.relative_to(SRC)
    app = rel.parts[0].removesuffix(".py")
    layer = LAYER[app]
    if "management" in rel.parts:  # the CLI commands are doors, whichever app they sit in
        layer = DOOR
    return app, layer


def _imports(path: Path) -> set[str]:
    """Every ``tldops.*`` module ``path`` imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("tldops."):
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tldops."))
    return found


def violations() -> set[tuple[str, str]]:
    """(importing module, imported app) for every import against the order."""
    out = set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if "migrations" in rel.parts:  # frozen history: they name models by app label
            continue
        app, layer = _layer_of_file(path)
        module = "tldops." + ".".join(rel.with_suffix("").parts)
        for imported in _imports(path):
            target = _app_of(imported)
            if not target or target == app or target not in LAYER:
                continue
            target_layer = LAYER[target]
            if target_layer > layer or (layer == target_layer == CAPABILITY):
                out.add((module, target))
    return out


def test_every_app_has_a_layer():
    apps = {p.name.removesuffix(".py") for p in SRC.iterdir() if p.suffix == ".py" or p.is_dir()}
    apps -= {"locale", "templates", "static", "__pycache__"}
    assert apps <= set(LAYER), f"give these a layer in tests/test_layers.py: {apps - set(LAYER)}"


def test_no_app_imports_one_above_it():
    new = violations() - set(KNOWN)
    assert not new, "imports against the layer order (see this module's docstring):\n" + "\n".join(
        f"  {module} imports {target}" for module, target in sorted(new)
    )


def test_known_violations_are_still_there():
    gone = set(KNOWN) - violations()
    assert not gone, (
        "strike these off KNOWN in tests/test_layers.py, they are fixed:\n"
        + "\n".join(f"  {module} imports {target}" for module, target in sorted(gone))
    )


# --- Circles and hidden imports ------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports_by_depth(path: Path) -> tuple[set[str], list[tuple[int, list[str]]]]:
    """(modules imported at module level, [(line, modules)] of imports inside functions)."""
    top: set[str] = set()
    nested: list[tuple[int, list[str]]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                if child.module.startswith("tldops"):
                    names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
                    if in_function:
                        nested.append((child.lineno, names))
                    else:
                        top.update(names)
            visit(child, inside)

    visit(ast.parse(path.read_text(), str(path)), False)
    return top, nested


def test_no_import_circles():
    """Module-level imports form no circle (a package's ``__init__`` that lists its submodules keeps
    what they share in a module of its own, e.g. ``lists/rules/context.py``)."""
    modules = _modules()

    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph = {m: {resolve(n) for n in _imports_by_depth(p)[0]} - {m, ""} for m, p in modules.items()}
    circles, state, stack = [], {}, []

    def walk(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                circles.append(" → ".join(stack[stack.index(n) :] + [n]))
            elif n not in state:
                walk(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            walk(m)
    assert not circles, "import circles:\n" + "\n".join(f"  {c}" for c in circles)


def test_every_import_inside_a_function_says_why_it_is_lazy():
    """An import hidden in a function to dodge a circle hides a dependency; the few that must be
    lazy (app loading, processes that import before django.setup()) say so with ``# lazy:``."""
    silent = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = path.read_text().splitlines()
        for lineno, _names in _imports_by_depth(path)[1]:
            above = lineno - 2  # the comment may stand above a block of imports
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                above -= 1
            said = "lazy:" in lines[lineno - 1] or (above >= 0 and "lazy:" in lines[above])
            if not said:
                silent.append(f"  {path.relative_to(SRC)}:{lineno}: {lines[lineno - 1].strip()}")
    assert not silent, "imports inside functions without a '# lazy:' reason:\n" + "\n".join(silent)
