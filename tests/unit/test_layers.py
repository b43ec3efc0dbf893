"""The layering rules: domain imports no AWS or Chalice; the HTTP layer never boto3/pynamodb;
nothing in chalicelib imports the local runtime."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0] if node.level == 0 else "")
    return names


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
