"""The shape of the code, checked: no import cycle anywhere, and a matching core that imports
nothing impure. Imports are read from the source (module level and inside functions alike)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "models", "matching", "worker", "admin")
# the pure core may import the standard library, its own modules and these pure libraries
CORE_ALLOWED_THIRD_PARTY = {"rapidfuzz", "nicknames", "jellyfish"}
IMPURE = {"sqlalchemy", "psycopg", "celery", "kombu", "redis", "fastapi", "starlette", "config", "models"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported_names(path: Path, package: str) -> Iterator[str]:
    """Every module name an import statement in the file names, relative imports resolved."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {target for target in imported_names(path, package) if target in modules} - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_module_imports_itself_through_a_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("path", sorted((ROOT / "matching" / "core").rglob("*.py")), ids=lambda p: p.name)
def test_the_matching_core_imports_nothing_impure(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_names(path, "matching.core") if name}
    impure = roots & IMPURE
    outside_core = {
        name
        for name in imported_names(path, "matching.core")
        if name.startswith(("matching.", "admin", "worker")) and not name.startswith("matching.core")
    }
    assert not impure, f"{path.name} imports {sorted(impure)}"
    assert not outside_core, f"{path.name} imports {sorted(outside_core)}"
