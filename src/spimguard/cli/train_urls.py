"""``spimguard train-urls``: rebuild the shipped URL model and its card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import BadInput
from ..urlmodel import card as url_card
from ..urlmodel import scorer
from ..urlmodel import train as training

app = typer.Typer()
errors = Console(stderr=True)


@app.command("train-urls")
def train_urls(
    datasets: Annotated[Path, typer.Option(help="The public datasets folder (with "
                                                "web-page-phishing-hannousse-yahiouche/).")],
    out: Annotated[Path | None, typer.Option(help="Where to write the model (JSON); "
                                                  "default: the bundled one in this "
                                                  "source tree.")] = None,
    card: Annotated[Path | None, typer.Option(help="Also write the model card (Markdown) "
                                                   "with the held-out figures.")] = None,
    benign: Annotated[Path | None, typer.Option(help="Real benign URLs, one a line, for "
                                                     "the card's long-tail figure.")] = None,
) -> None:
    """Train the URL model (byte for byte the same from the same data) and its card."""
    try:
        artefact, _ = training.shipped(datasets)
    except BadInput as exc:
        errors.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from None
    target = out or Path(str(scorer.resources.files("spimguard.urlmodel")
                                 .joinpath(scorer.BUNDLED)))
    target.write_text(scorer.dumps(artefact), "utf-8")
    errors.print(f"URL model written to {target} ({target.stat().st_size} bytes)")
    if card:
        card.write_text(url_card.render(artefact, datasets, benign), "utf-8")
        errors.print(f"card written to {card}")
