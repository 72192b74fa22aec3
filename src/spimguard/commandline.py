"""What the command modules share: settings loaded or a clear exit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .config import Config
from .config import load as load_config
from .errors import SpimguardError

errors = Console(stderr=True)


def config_or_exit(path: Path | None, **overrides: Any) -> Config:
    """The settings, or the configuration error in one line and exit status 2."""
    try:
        return load_config(path, **overrides)
    except SpimguardError as exc:
        errors.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None
