"""``spimguard bench``: the benchmarks of a source checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer()
console = Console(stderr=True, soft_wrap=True)

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@app.command()
def bench(
    names: Annotated[list[str] | None, typer.Argument(
        help="Benchmarks to run (engine, api, memory, matrix, xmpp, content, links, "
             "takeover, bulk); default: all, as one table.")] = None,
) -> None:
    """Run the benchmarks of a source checkout (its benchmarks/ folder) and print them."""
    if not (BENCHMARKS / "run.py").is_file():
        console.print("[red]bench:[/] the benchmarks live in the source checkout "
                      "(benchmarks/); this installation has none")
        raise typer.Exit(2)
    scripts = [BENCHMARKS / f"{name}.py" for name in names or ["run"]]
    unknown = [s.stem for s in scripts if not s.is_file() or s.stem == "table"]
    if unknown:
        known = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem not in ("run", "table"))
        console.print(f"[red]bench:[/] no benchmark {', '.join(unknown)} "
                      f"(known: {', '.join(known)})")
        raise typer.Exit(2)
    for script in scripts:
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        if code:
            raise typer.Exit(code)
