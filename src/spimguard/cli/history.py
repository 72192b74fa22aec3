"""``spimguard import-history FILE``: the login log into account profiles (``history.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .. import history
from ..detectors.base import settings
from ..detectors.takeover import TakeoverSettings
from ..engine import open_engine
from ..errors import BadInput
from .common import config_or_exit

app = typer.Typer()
console = Console(stderr=True)


@app.command("import-history")
def import_history(
    file: Annotated[Path, typer.Argument(help="The login log (CSV: ts,account,ip,client"
                                              "[,success]).")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="spimguard's data folder.")
                        ] = Path("./spimguard-data"),
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file.")
                      ] = None,
) -> None:
    """Bootstrap account profiles from the IM server's login log (habitual networks, apps)."""
    cfg = config_or_exit(config, storage={"backend": "sqlite", "data_dir": str(data_dir)})
    familiar_after = float(settings("takeover", TakeoverSettings,
                                    cfg.detectors.get("takeover", {})).familiar_after)
    try:
        with file.open(encoding="utf-8", newline="") as lines:
            seen = history.read(lines)
    except OSError as exc:
        console.print(f"[red]cannot read {file}:[/] {exc.strerror}")
        raise typer.Exit(2) from None
    except BadInput as exc:
        console.print(f"[red]{file}:[/] {exc.message}")
        raise typer.Exit(2) from None
    end = max((s.last for s in seen.values()), default=0.0)
    events = list(history.account_events(seen, familiar_after, end))
    engine = open_engine(cfg, data_dir)
    try:
        engine.process_batch(events)
    finally:
        engine.close()
    known = sum(1 for e in events if e.networks or e.clients)
    console.print(f"{len(events):,} accounts imported, {known:,} with habitual networks or apps")
