"""``spimguard operators add | list``: the people who may log in to the console."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from ..errors import SpimguardError
from .common import ConfigOpt, StoreDirOpt, config_or_exit

app = typer.Typer(name="operators", no_args_is_help=True,
                  help="Operator accounts of the web console (/console/).")
console = Console()


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ - @).")],
    role: Annotated[str, typer.Option(help="viewer (reads), moderator (decides), admin "
                                           "(also changes lists).")] = "moderator",
    password: Annotated[str, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True, envvar="SPIMGUARD_PASSWORD",
        help="Prompted when not given (or set SPIMGUARD_PASSWORD).")] = "",
    data_dir: StoreDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Add an operator, or give an existing one a new role and password."""
    from ..server.console import auth, open_console

    settings = config_or_exit(config, **({"storage": {"data_dir": str(data_dir)}}
                                         if data_dir else {}))
    try:
        operator = auth.new_operator(name, role, password)
        store = open_console(settings)
    except SpimguardError as exc:
        console.print(f"[red]operators add:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        existed = store.operator(name) is not None
        store.save_operator(operator)
        store.audit(time.time(), "(command line)", "operator.update" if existed else
                    "operator.add", name, "", f"role {role}")
    finally:
        store.close()
    console.print(f"{'updated' if existed else 'added'} operator {name} ({role})")


@app.command("list")
def list_(data_dir: StoreDirOpt = None, config: ConfigOpt = None) -> None:
    """The operators and their roles."""
    from ..server.console import open_console

    settings = config_or_exit(config, **({"storage": {"data_dir": str(data_dir)}}
                                         if data_dir else {}))
    store = open_console(settings)
    try:
        for operator in store.operators():
            console.print(f"{operator.name}\t{operator.role}")
    finally:
        store.close()
