"""Every data file the package reads at run time is declared, so `pip install .` ships it."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
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
