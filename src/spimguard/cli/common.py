"""What the command modules share: settings loaded or a clear exit, and plain help screens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperOption

from ..config import Config
from ..config import load as load_config
from ..errors import SpimguardError

errors = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")]
StoreDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder of the embedded database (default: storage.data_dir).")]


def config_or_exit(path: Path | None, **overrides: Any) -> Config:
    """The settings, or the configuration error in one line and exit status 2."""
    try:
        return load_config(path, **overrides)
    except SpimguardError as exc:
        errors.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None


def plain_help(command: Any) -> Any:
    """Help screens in the usual shape: ``TEXT`` and ``PATH`` placeholders, no type on flags.

    Typer names types Python's way (``{text}`` in the usage line, ``<list[str]>``,
    ``--help <bool>``), which reads like a template left unfilled; click's own
    upper-case metavars are what people know from other tools. Applied once to the
    whole command tree (a click command tree: typer builds one, with its own click).
    """
    context = typer.Context(command)
    for param in command.params:
        if isinstance(param, TyperOption):
            param.metavar = "" if param.is_flag else (param.metavar or _kind(param, context))
        elif isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "value").upper()
            param.metavar = name
            shown = name + ("..." if param.nargs != 1 else "")
            usage = shown if param.required else f"[{shown}]"
            param.get_usage_pieces = lambda ctx, usage=usage: [usage]  # type: ignore[method-assign,misc]
            if hasattr(param, "display_type_rich"):  # the name says it: no "<str>" beside it
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    helper = command.get_help_option(context)
    if helper is not None:
        helper.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


_KINDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN"}


def _kind(param: Any, context: Any) -> str:
    """``TEXT``, ``INTEGER``, ``PATH``...: the option's type (a list's element type)."""
    label = (param.display_type(context) if hasattr(param, "display_type")
             else param.type.name).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _KINDS.get(label, label.upper())
