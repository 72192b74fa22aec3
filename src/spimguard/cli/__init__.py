"""The ``spimguard`` command: one module per command or command group, each a Typer app
mounted here (a group's under its name), in the order the help screen lists them."""

from __future__ import annotations

import typer

from . import (
    bench,
    db,
    evidence,
    history,
    judge,
    lists,
    model,
    operators,
    serve,
    simulate,
    train,
    train_urls,
)
from .common import plain_help

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="spimguard: anti-spim verdicts for instant-messaging platforms.")
for commands in (serve, judge, bench, train, train_urls, simulate, history, model, lists,
                 evidence, db, operators):
    app.add_typer(commands.app)


def main() -> None:
    plain_help(typer.main.get_command(app))(prog_name="spimguard")
