"""``spimguard model export | import``: what users' reports taught the content model,
carried between installations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from ..detectors import content
from ..engine import Engine, open_engine
from ..model.online import OnlineDelta
from .common import config_or_exit

app = typer.Typer(name="model", no_args_is_help=True,
                  help="Move the content model's learnt state between installations.")
console = Console()
errors = Console(stderr=True)


def _content_detector(engine: Engine) -> content.ContentDetector:
    found = next((d for d in engine.detectors if isinstance(d, content.ContentDetector)), None)
    if found is None:
        errors.print("[red]the content detector is disabled in this configuration[/]")
        raise typer.Exit(2)
    return found


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="File to write (JSON).")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The installation's data.")],
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
) -> None:
    """Write what users' reports taught the content model, for another installation."""
    engine = open_engine(config_or_exit(config), data_dir)
    try:
        detector = _content_detector(engine)
        out.write_bytes(detector.online.export())
        learnt = int(np.count_nonzero(detector.online.effective()))
    finally:
        engine.close()
    console.print(f"wrote {out}: {learnt} learnt feature weights")


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="A file written by `spimguard model export`.")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The installation's data.")],
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
) -> None:
    """Add learnt content-model weights from another installation (replaces a previous import)."""
    try:
        exported = OnlineDelta.parse(source.read_bytes())
    except (OSError, ValueError) as exc:
        errors.print(f"[red]cannot import {source}:[/] {exc}")
        raise typer.Exit(2) from None
    engine = open_engine(config_or_exit(config), data_dir)
    try:
        detector = _content_detector(engine)
        if exported.bits != detector.model.bits:
            errors.print(f"[red]cannot import {source}:[/] it has 2^{exported.bits} buckets, "
                         f"the model 2^{detector.model.bits}")
            raise typer.Exit(2)
        engine.write_state([detector.imported(exported)])
    finally:
        engine.close()
    console.print(f"imported {len(exported.buckets)} learnt feature weights into {data_dir}")
