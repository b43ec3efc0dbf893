"""The layering rules, module by module: each chalicelib module imports only modules of lower
layers (or of its own package), no import cycle exists between any two modules, the domain
imports no AWS or Chalice, the HTTP layer never boto3/pynamodb, and nothing in chalicelib
imports the local runtime."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"

# Lowest first. A module may import from any lower layer, and from its own package.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"domain"}),
    frozenset({"config"}),
    frozenset({"logs", "aws"}),
    frozenset({"metrics", "tracing"}),
    frozenset({"db", "blobs", "auth"}),
    frozenset({"stores", "events", "identity", "topology", "certificates"}),
    # What both the services and the pipeline run (deletes, quota holds): below both.
    frozenset({"lifecycle"}),
    frozenset({"pipeline"}),
    frozenset({"services"}),
    frozenset({"api"}),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Top-level names of everything the file imports (anywhere in it)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0] if node.level == 0 else "")
    return names


def _chalicelib_imports(path: Path) -> set[str]:
    """The chalicelib modules the file imports (anywhere in it): `from a import b` names the
    module a.b when that is a module, else a."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chalicelib."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return found - {"chalicelib"}


def _package(module: str) -> str:
    return module.split(".")[1]


def _layer(module: str) -> int:
    package = _package(module)
    for rank, members in enumerate(LAYERS):
        if package in members:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add {package} to LAYERS")


GRAPH = {module: _chalicelib_imports(path) for module, path in MODULES.items()
         if module != "chalicelib"}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_module_imports_only_lower_layers_or_its_own_package(module):
    upward = sorted(target for target in GRAPH[module]
                    if _package(target) != _package(module) and _layer(target) >= _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports {upward}"


def test_no_import_cycle_between_modules():
    cycles = list(_cycles(GRAPH))
    assert not cycles, cycles


def _cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                yield from visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                yield sorted(group)

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def test_the_checks_catch_upward_imports_and_cycles():
    # The rules themselves: services sits above pipeline, so this edge is refused ...
    assert _layer("chalicelib.services.images") > _layer("chalicelib.pipeline.run")
    # ... and a cycle through three modules is found.
    assert list(_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer,banned", [
    ("domain", {"boto3", "botocore", "pynamodb", "chalice", "aws_xray_sdk"}),
    ("api", {"boto3", "botocore", "pynamodb"}),
])
def test_layer_imports(layer, banned):
    for path in (ROOT / layer).glob("*.py"):
        assert not (_imports(path) & banned), path


def test_chalicelib_never_imports_local_runtime_or_tests():
    for path in ROOT.rglob("*.py"):
        assert not (_imports(path) & {"glint_local", "tests", "moto"}), path
