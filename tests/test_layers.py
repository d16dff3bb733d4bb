"""The dependency order of the apps, read from the imports (issue 8), written once and kept by CI.

Bottom up: the kernel (shared helpers with no app of their own, and later the mail core, audit and
errors) → ``catalog`` → ``directory`` → the capabilities (``lists``, ``repository`` and later
``alerts``, ``openpgp``, ``monitor``, ``playbooks``) → the doors (``web``, ``api``, ``ops``, the CLI
helpers and every app's ``management/`` commands). A module may import its own app and any app of a
lower layer; a capability never imports another capability. Imports inside functions count too:
hiding one there does not change what depends on what.

The imports that break the order today are listed in :data:`KNOWN`, each with the work that removes
it (issue 8 moves the mail core out of ``lists`` and audit/errors out of ``directory``). The list
only shrinks: a new violation fails :func:`test_no_app_imports_one_above_it`, and a listed one that
is gone fails :func:`test_known_violations_are_still_there` until it is struck off here.
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

#: (importing module, imported app) pairs that break the order today, and why they are still here.
MAIL_CORE = (
    "issue 8: the mail core (intake, outbox, models, headers, senderauth) moves out of lists"
)
AUDIT = "issue 8: audit moves below the catalog (errors did: tldops.kernel.errors)"
BOUNCES = (
    "issue 8: bounce scores / reachability read through the mail core, not the other capability"
)
KNOWN: dict[tuple[str, str], str] = {
    ("tldops.catalog.baseline", "directory"): AUDIT,
    ("tldops.catalog.services", "directory"): AUDIT + " (and resolve_tld to the catalog)",
    ("tldops.catalog.sync", "directory"): AUDIT,
    ("tldops.directory.queries", "lists"): BOUNCES,
    ("tldops.directory.queries", "repository"): BOUNCES,
    ("tldops.repository.editions", "lists"): "issue 8: who receives the edition (the list's "
    "subscribers) is a directory query, not the list's",
    ("tldops.repository.mail_door", "lists"): BOUNCES + " (person_for)",
    ("tldops.repository.reachability", "lists"): BOUNCES,
    ("tldops.repository.snapshot", "openpgp"): "the seam for the coming openpgp app: fingerprints "
    "should be registered with the repository, not imported from a sibling capability",
}


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
