"""``spimguard evidence export | key | verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .. import evidence
from ..config import load as load_config
from ..engine import Engine, open_engine
from ..errors import SpimguardError
from .common import ConfigOpt, StoreDirOpt

app = typer.Typer(name="evidence", no_args_is_help=True,
                  help="Evidence bundles of campaigns, for abuse and legal teams.")
console = Console()


def _engine(config: Path | None, data_dir: Path | None) -> Engine:
    try:
        return open_engine(load_config(config), data_dir)
    except SpimguardError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command("export")
def export(
    campaign: Annotated[str, typer.Argument(help="Campaign id (GET /v1/campaigns lists them).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the bundle to.")],
    data_dir: StoreDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Write a campaign's evidence bundle (files, manifest, hash chain, signature)."""
    engine = _engine(config, data_dir)
    try:
        files = evidence.build(engine.records.committed(), campaign, engine.evidence_key)
    finally:
        engine.close()
    if files is None:
        console.print(f"[red]no campaign {campaign!r}[/]")
        raise typer.Exit(2)
    evidence.write(files, out)
    console.print(f"wrote {len(files)} files to {out}")


@app.command("key")
def key(data_dir: StoreDirOpt = None, config: ConfigOpt = None) -> None:
    """Print the installation's public key (hex): publish it, so that anyone can check that a
    bundle came from this installation unchanged (``verify --public-key``)."""
    engine = _engine(config, data_dir)
    try:
        print(evidence.public_key(engine.evidence_key))
    finally:
        engine.close()


@app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="A bundle folder.")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="A file holding the installation's public key "
        "(`spimguard evidence key`).")] = None,
) -> None:
    """Check the signature, every file and the hash chain; exit 1 on any mismatch."""
    trusted = public_key.read_text("utf-8").strip() if public_key else ""
    problems = evidence.verify(folder, trusted)
    for problem in problems:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    if trusted:
        console.print(f"[green]✓[/] {folder}: signed by the given key; every file and the hash "
                      "chain match the manifest", highlight=False)
    else:
        console.print(f"[green]✓[/] {folder}: every file and the hash chain match the manifest, "
                      f"signed by public key {evidence.signer_of(folder)}: compare it with the "
                      "installation's (`spimguard evidence key`), or pass --public-key",
                      highlight=False)
