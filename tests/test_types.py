"""The package's hints, checked on every run of the suite: mypy over ``src/spimguard`` with
pyproject's ``[tool.mypy]`` (its API, in this process), failing with every error listed.

Its cache is the checkout's ``.mypy_cache`` (ignored by git): a fresh clone pays for one
whole check, a later run only for the modules changed since (docs/speed-log.md, "The
twenty-eighth pass")."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors_in_the_package() -> None:
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(ROOT / ".mypy_cache"),
                                str(ROOT / "src" / "spimguard")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 0 and not errors, (
        f"mypy found {len(errors)} errors (exit {status}):\n" + "\n".join(errors or [out])
        + (f"\n{err}" if err else ""))
