"""``spimguard lists import``: operator lists into the shared state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .. import lists
from ..config import load as load_config
from ..errors import SpimguardError
from ..state.ops import FOREVER, Distinct, Replace, Touch
from .common import ConfigOpt, StoreDirOpt

app = typer.Typer(name="lists", no_args_is_help=True,
                  help="Block, allow, popular, shortener and attachment-hash lists.")
console = Console()


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="The list file.")],
    kind: Annotated[str, typer.Option(help="domains, hosts, urls, csv or sha256.")],
    name: Annotated[str, typer.Option("--list", help="block, allow, popular, shorteners "
                                                     "or sha256.")] = "block",
    replace: Annotated[bool, typer.Option(help="Replace the list instead of adding to it.")
                       ] = False,
    data_dir: StoreDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Load a list; every node sees it at once, no restart."""
    from ..engine import open_engine

    if name not in lists.NAMES:
        console.print(f"[red]unknown list {name!r}[/]; use one of {', '.join(lists.NAMES)}")
        raise typer.Exit(2)
    try:
        entries = lists.parse(source.read_text("utf-8", errors="replace"), kind)
        engine = open_engine(load_config(config), data_dir)
    except (OSError, SpimguardError) as exc:
        console.print(f"[red]cannot import {source}:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        key = lists.key(name)
        write = (Replace(key, tuple(entries), FOREVER) if replace else
                 Touch(key, tuple(entries), FOREVER, lists.MAX_ENTRIES))
        engine.write_state([write])
        total = engine.state.read([Distinct(key, FOREVER)], engine.now())[0]
    finally:
        engine.close()
    console.print(f"{len(entries)} entries from {source} into the {name} list "
                  f"({total} in all)")
