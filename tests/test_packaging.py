"""`pip install .` alone runs the package: every data file it reads is declared, so it is
shipped, and every module it imports is installed by its declared dependencies (the quick
start's `spimguard serve` runs without the test extras, which the suite itself has)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from fnmatch import fnmatch
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_file_is_shipped() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["spimguard"]
    package = ROOT / "src" / "spimguard"
    missing = [
        str(path.relative_to(package)) for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
        and not any(part == "__pycache__" or part.startswith(".")
                    for part in path.relative_to(package).parts)
        and not any(fnmatch(str(path.relative_to(package)), p) for p in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


_NAME = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_by(requirements: list[str]) -> set[str]:
    """The distributions that installing ``requirements`` brings, as installed here: each
    one's own requirements, those under an extra only when the extra was asked for."""
    todo = []
    for requirement in requirements:
        found = _NAME.match(requirement.partition(";")[0])
        assert found is not None, requirement
        todo.append((found.group(1), {e.strip() for e in (found.group(2) or "").split(",")}))
    brought: set[str] = set()
    while todo:
        name, extras = todo.pop()
        if _normal(name) in brought:
            continue
        brought.add(_normal(name))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # another platform's (a marker not met here)
            continue
        for requirement in requires:
            wanted = _EXTRA.findall(requirement.partition(";")[2])
            if not wanted or set(wanted) & extras:
                found = _NAME.match(requirement.partition(";")[0])
                assert found is not None, requirement
                todo.append((found.group(1),
                             {e.strip() for e in (found.group(2) or "").split(",")}))
    return brought


def test_every_module_the_package_imports_is_a_declared_dependency() -> None:
    """The test extras install more than the package needs (httpx, which the Matrix
    notices imported while only the tests' extra declared it: `spimguard serve` failed on
    a machine with `pip install .` alone, and the suite, with the extras, never saw it)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    brought = _installed_by(project["dependencies"])
    owners = metadata.packages_distributions()
    strays: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "spimguard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top in sys.stdlib_module_names or top == "spimguard":
                    continue
                if not {_normal(d) for d in owners.get(top, ())} & brought:
                    strays.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not strays, f"imported, not installed by [project] dependencies: {strays}"
