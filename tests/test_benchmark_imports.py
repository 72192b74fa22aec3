"""The benchmarks import one another at their own import, never inside a function.

Tests put ``benchmarks/`` on ``sys.path`` only while they import a benchmark module; a
function that imports a sibling when it is called looks the name up later, when the path
may be gone and the module never loaded in this worker. Whether that fails depends on which
tests ran before it in the same process: a failure by test order (session 44's fresh-clone
runs met it twice, in ``state_split`` and then in ``cold_instructions``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
NAMES = frozenset(path.stem for path in BENCHMARKS.glob("*.py"))


def _late_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of each benchmark module imported inside a function or class."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import):
                modules = [alias.name.partition(".")[0] for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and not inner.level and inner.module:
                modules = [inner.module.partition(".")[0]]
            else:
                continue
            found += [(inner.lineno, module) for module in modules if module in NAMES]
    return sorted(set(found))


def test_the_check_finds_an_import_at_the_call() -> None:
    source = "import engine\n\ndef main():\n    import table\n    from engine import load\n"
    assert _late_imports(source) == [(4, "table"), (5, "engine")]
    assert _late_imports("import engine\nfrom table import show\n") == []


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_no_benchmark_imports_a_sibling_at_the_call(path: Path) -> None:
    assert _late_imports(path.read_text()) == []
