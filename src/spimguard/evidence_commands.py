"""``spimguard evidence export | verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import evidence
from .commandline import ConfigOpt, StoreDirOpt
from .config import load as load_config
from .errors import SpimguardError

evidence_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Evidence bundles of campaigns, for abuse and legal teams.")
console = Console()


@evidence_app.command("export")
def export(
    campaign: Annotated[str, typer.Argument(help="Campaign id (GET /v1/campaigns lists them).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the bundle to.")],
    data_dir: StoreDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write a campaign's evidence bundle (files, manifest, hash chain) to a folder."""
    from .engine import open_engine

    try:
        engine = open_engine(load_config(config), data_dir)
    except SpimguardError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    try:
        files = evidence.build(engine.records, campaign, engine.evidence_key)
    finally:
        engine.close()
    if files is None:
        console.print(f"[red]no campaign {campaign!r}[/]")
        raise typer.Exit(2)
    evidence.write(files, out)
    console.print(f"wrote {len(files)} files to {out}")


@evidence_app.command("verify")
def verify(folder: Annotated[Path, typer.Argument(help="A bundle folder.")]) -> None:
    """Check every file and the hash chain against the manifest; exit 1 on any mismatch."""
    problems = evidence.verify(folder)
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]✓[/] {folder}: every file and the hash chain match the manifest")
