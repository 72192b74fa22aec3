"""``spimguard serve``: the HTTP API, in one process or uvicorn's workers."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from ..config import Config
from ..db import kept_secret
from ..engine import open_engine
from ..errors import SpimguardError
from .common import ConfigOpt, config_or_exit

app = typer.Typer()
# A root path goes into every link, redirect and cookie path the console emits: plain
# segments only, so none can break out of an attribute, a Location or a cookie's Path.
_ROOT_PATH = re.compile(r"(/[\w.~-]+)*/?", re.ASCII)
# Messages are never wrapped: piped to a log, a line stays one line (a path or URL intact).
console = Console(stderr=True, soft_wrap=True)


def _token(config: Config, data_dir: Path) -> str:
    """The configured API token, or one generated once and kept in the data dir."""
    return config.api_token or kept_secret(data_dir / "api-token")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Folder of the embedded database (default: storage.data_dir).")
    ] = None,
    config: ConfigOpt = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes (more than 1 needs Redis state and PostgreSQL records)."
    )] = 1,
    max_connections: Annotated[int, typer.Option(
        envvar="SPIMGUARD_MAX_CONNECTIONS",
        help="Open connections and requests in progress beyond which requests get 503.")
    ] = 1000,
    header_timeout: Annotated[float, typer.Option(
        envvar="SPIMGUARD_HEADER_TIMEOUT",
        help="Seconds a connection may take to send a request's headers.")] = 10.0,
    keep_alive: Annotated[int, typer.Option(
        envvar="SPIMGUARD_KEEP_ALIVE",
        help="Seconds an idle keep-alive connection stays open.")] = 5,
    root_path: Annotated[str, typer.Option(
        envvar="SPIMGUARD_ROOT_PATH",
        help="The prefix a reverse proxy serves spimguard under and strips before "
             "forwarding (e.g. /spimguard): the console's links, redirects and cookies "
             "carry it.")] = "",
) -> None:
    """Serve the HTTP API (embedded backends, or shared ones for many workers and nodes)."""
    import uvicorn

    from ..errors import RecordsUnavailable, StateUnavailable
    from ..server import create_app
    from ..server.protocol import with_header_deadline

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    if not _ROOT_PATH.fullmatch(root_path):
        _refuse(f"--root-path {root_path!r} is not a path of letters, digits and . _ ~ - "
                "after a / (as /spimguard)")
    settings = config_or_exit(config)
    folder = Path(data_dir or settings.storage.data_dir)
    generated = not settings.api_token
    # Worker processes get these too; the header deadline (a protocol class defined at
    # run time) only in one process, where it need not cross a process boundary.
    http_options: dict[str, Any] = {"limit_concurrency": max_connections,
                                    "timeout_keep_alive": keep_alive, "root_path": root_path}
    if settings.shared and generated:
        _refuse("api_token must be set when state or records are shared (every node must "
                "accept the same token); set SPIMGUARD_API_TOKEN")
    if workers > 1 and not (settings.storage.backend == "redis"
                            and settings.records.backend == "postgres"):
        _refuse(f"--workers {workers} needs storage.backend = 'redis' and records.backend = "
                "'postgres' (workers share nothing else)")
    try:
        settings = config_or_exit(config, api_token=_token(settings, folder),
                                  storage={"data_dir": str(folder)})
        if workers > 1:
            _serve_workers(settings, config, folder, host, port, log_level, workers,
                           http_options)
            return
        engine = open_engine(settings, folder)
    except (StateUnavailable, RecordsUnavailable, OSError) as exc:  # the stores, not the config
        console.print(f"spimguard: cannot start: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except SpimguardError as exc:
        _refuse(str(exc))
    if generated:
        console.print(f"API token in {folder / 'api-token'} (set SPIMGUARD_API_TOKEN to "
                      "choose your own)")
    console.print(f"spimguard serving on http://{host}:{port} (data in {folder})")
    uvicorn.run(create_app(engine), host=host, port=port, log_level=log_level.lower(),
                access_log=False, http=with_header_deadline(header_timeout), **http_options)


def _refuse(reason: str) -> NoReturn:
    console.print(f"[red]serve:[/] {reason}", soft_wrap=True)
    raise typer.Exit(2)


def _serve_workers(settings: Config, config: Path | None, folder: Path, host: str, port: int,
                   log_level: str, workers: int, http_options: dict[str, Any]) -> None:
    """uvicorn's worker processes, each with its own engine on the shared stores."""
    import os

    import uvicorn

    try:  # one engine here first: a bad store or schema fails once, in one line
        open_engine(settings, folder).close()
    except SpimguardError as exc:
        _refuse(str(exc))
    os.environ["SPIMGUARD_API_TOKEN"] = settings.api_token
    os.environ["SPIMGUARD_DATA_DIR"] = str(folder)
    if config:
        os.environ["SPIMGUARD_CONFIG"] = str(config.resolve())
    console.print(f"spimguard serving on http://{host}:{port} with {workers} workers")
    uvicorn.run("spimguard.server.worker:app", factory=True, workers=workers, host=host,
                port=port, log_level=log_level.lower(), access_log=False, **http_options)
