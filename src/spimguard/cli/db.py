"""``spimguard db upgrade``: bring the record store's schema to this version's."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import RecordsUnavailable, StateUnavailable
from .common import config_or_exit

app = typer.Typer(name="db", help="The record store's schema.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def upgrade(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")
                      ] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Folder of the embedded database (default: storage.data_dir).")
    ] = None,
) -> None:
    """Apply the schema migrations the records lack (PostgreSQL, or the SQLite file)."""
    settings = config_or_exit(config)
    try:
        if settings.records.backend == "postgres":
            from ..records.postgres import upgrade as upgrade_postgres

            applied = upgrade_postgres(settings.records.url)
        else:
            from ..db import connect
            from ..records.sqlite import upgrade as upgrade_sqlite

            conn = connect(Path(data_dir or settings.storage.data_dir) / "spimguard.db")
            applied = upgrade_sqlite(conn)
            conn.close()
    except (RecordsUnavailable, StateUnavailable, sqlite3.Error) as exc:
        console.print(f"[red]db upgrade:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
