"""The layers hold: services meet through stubs and the runtime; the library imports no service.

Layers, bottom up (docs/architecture.md has the picture):

- ``docentlib``: model code shared by everyone; imports no service and no tool.
- ``services.runtime``: transport (server, clients, interceptors, settings base); may use the
  library, never a service.
- ``services.<name>``: one deployable each; may use the runtime, the library and the generated
  stubs, never another service.
- tools (``docent_cli``, ``docent_eval``, ``bench``, ``docent_training``): may use any public
  name below them; nothing below imports a tool, and no tool imports the CLI.

Every import in every module is read with ``ast`` (function-level imports included), so a lazy
import cannot slip past.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {
    "services": REPO / "services",
    "docentlib": REPO / "docentlib",
    "docent_cli": REPO / "docent_cli",
    "docent_eval": REPO / "docent_eval",
    "bench": REPO / "bench",
    "docent_training": REPO / "training-jobs" / "docent_training",
}
TOOLS = {"docent_cli", "docent_eval", "bench", "docent_training"}


@dataclass(frozen=True)
class Import:
    source: str  # dotted module name of the importer
    target: str  # dotted module name imported
    names: tuple[str, ...]  # names taken from it (``from x import a, b``)
    line: int

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source}:{self.line} imports {self.target}{taken}"


def module_name(root: str, path: Path) -> str:
    parts = list(path.relative_to(ROOTS[root]).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([root, *parts])


def imports_of(root: str, path: Path) -> list[Import]:
    source = module_name(root, path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(source, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: resolve against the importer's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([target] if target else [])])
            names = tuple(a.name for a in node.names)
            found.append(Import(source, target, names, node.lineno))
    return found


def all_imports() -> list[Import]:
    found = []
    for root, folder in ROOTS.items():
        for path in sorted(folder.rglob("*.py")):
            found += imports_of(root, path)
    return found


def owner(module: str) -> str | None:
    """The unit that owns a module: ``services.<name>`` for services, else the top package."""
    parts = module.split(".")
    if parts[0] == "services":
        return ".".join(parts[:2]) if len(parts) > 1 else "services"
    return parts[0] if parts[0] in ROOTS else None


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def violation(imp: Import) -> str | None:
    src, dst = owner(imp.source), owner(imp.target)
    if dst is None or src == dst or imp.target == "services":
        return None
    if src == "docentlib":
        return "the library imports no service and no tool"
    if src == "services.runtime" and dst != "docentlib":
        return "the runtime imports no service and no tool"
    if src.startswith("services.") and dst.startswith("services.") and dst != "services.runtime":
        return "a service imports no other service (use the stubs and the runtime's clients)"
    if src.startswith("services.") and dst in TOOLS:
        return "a service imports no tool"
    if dst == "docent_cli":
        return "nothing imports the CLI: move what is shared into the library"
    if any(is_private(part) for part in imp.target.split(".")) or any(map(is_private, imp.names)):
        return "a private name of another package"
    return None


def test_the_scan_sees_every_layer():
    """Guard against a scan that finds nothing and so passes vacuously."""
    owners = {owner(i.source) for i in all_imports()}
    assert {"docentlib", "services.runtime", "services.gateway", *TOOLS} <= owners
    assert len(all_imports()) > 500


@pytest.mark.parametrize(
    ("source", "target", "names", "expected"),
    [
        ("services.gateway.app", "services.retrieval.core", (), "other service"),
        ("services.runtime.clients", "services.gateway.http.errors", (), "runtime imports no"),
        ("docentlib.ranking", "services.runtime.errors", (), "library imports no"),
        ("docent_eval.safety_eval", "docent_cli.chat", (), "imports the CLI"),
        ("bench.retrieval_bench", "docent_eval.retrieval_eval", ("_load",), "private name"),
        ("bench.retrieval_bench", "services.retrieval._impl", (), "private name"),
        ("services.gateway.app", "docent_eval.metrics", (), "imports no tool"),
        ("services.gateway.app", "services.runtime.clients", (), None),
        ("services.gateway.app", "docentlib.ranking", (), None),
        ("docent_eval.retrieval_eval", "services.retrieval.core", ("RetrievalCore",), None),
        ("services.gateway.chat.pipeline", "services.gateway.http._x", ("_y",), None),
    ],
)
def test_rules_on_examples(source, target, names, expected):
    found = violation(Import(source, target, names, 1))
    assert (found is None) if expected is None else (expected in (found or ""))


def test_no_import_crosses_a_boundary():
    broken = [f"{imp}: {why}" for imp in all_imports() if (why := violation(imp))]
    assert not broken, "\n".join(broken)
