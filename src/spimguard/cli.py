"""Command line: ``spimguard serve | check | replay | train | evaluate | simulate | bench |
model | lists | evidence``."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from .commandline import ConfigOpt, config_or_exit, plain_help
from .config import Config
from .db import kept_secret
from .db_commands import db_app
from .engine import Engine, open_engine
from .errors import BadInput, SpimguardError
from .events import Message, Verdict, decode_event
from .evidence_commands import evidence_app
from .history_commands import import_history
from .lists_commands import lists_app
from .model import commands as model_commands
from .operators_commands import operators_app
from .scorecard import ACTIONS, Scorecard
from .sim.commands import simulate
from .urlmodel.commands import train_urls

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="spimguard: anti-spim verdicts for instant-messaging platforms.")
# Messages are never wrapped: piped to a log, a line stays one line (a path or URL intact).
console = Console(stderr=True, soft_wrap=True)

DataDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder of the embedded SQLite database (default: in memory).")]


def _engine(config_path: Path | None, data_dir: Path | None) -> Engine:
    storage = {"backend": "sqlite", "data_dir": str(data_dir)} if data_dir else {
        "backend": "memory"}
    return open_engine(config_or_exit(config_path, storage=storage))


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
) -> None:
    """Serve the HTTP API (embedded backends, or shared ones for many workers and nodes)."""
    import uvicorn

    from .errors import RecordsUnavailable, StateUnavailable
    from .server import create_app
    from .server.protocol import with_header_deadline

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    settings = config_or_exit(config)
    folder = Path(data_dir or settings.storage.data_dir)
    generated = not settings.api_token
    # Worker processes get these too; the header deadline (a protocol class defined at
    # run time) only in one process, where it need not cross a process boundary.
    http_options: dict[str, Any] = {"limit_concurrency": max_connections,
                                    "timeout_keep_alive": keep_alive}
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


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The message text.")],
    sender: Annotated[str, typer.Option(help="Sending account.")] = "sender",
    recipient: Annotated[list[str] | None, typer.Option(
        help="Recipient account (repeat for several); at least one.")] = None,
    client: Annotated[str, typer.Option(help="Client id of the sending app.")] = "",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Judge one message in-process and print the verdict as JSON."""
    if not recipient:
        # Who receives a message is half of what spimguard judges (strangers, fan-out):
        # a made-up recipient would give a verdict about nobody.
        console.print("[red]check:[/] give at least one --recipient ACCOUNT")
        raise typer.Exit(2)
    engine = _engine(config, data_dir)
    event = {"type": "message", "id": f"cli-{time.time_ns()}", "ts": time.time(),
             "sender": sender, "recipients": recipient, "text": text,
             "client": {"id": client}}
    try:
        verdict = engine.process(decode_event(msgspec.json.encode(event), engine.config.limits))
    except BadInput as exc:
        console.print(f"[red]bad input:[/] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        engine.close()
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(verdict), indent=2).decode() + "\n")


class _Label(msgspec.Struct):
    label: str | None = None


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


@app.command()
def replay(
    events: Annotated[Path, typer.Argument(help="JSONL file of events, in time order.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write results as JSONL here (default: stdout).")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    batch: Annotated[int, typer.Option(help="Events per commit.")] = 1000,
) -> None:
    """Replay recorded events in event time; with `label` fields, print a scorecard."""
    engine = _engine(config, data_dir)
    limits = engine.config.limits
    label_decoder = msgspec.json.Decoder(_Label)
    card, labelled = Scorecard(), False
    sink = out.open("wb") if out else sys.stdout.buffer
    pending: list[tuple[Any, str | None]] = []

    def flush() -> None:
        results = engine.process_batch([e for e, _ in pending])
        for (_, label), result in zip(pending, results, strict=True):
            sink.write(msgspec.json.encode(result) + b"\n")
            if label and isinstance(result, Verdict):
                card.add(label, result)
        pending.clear()

    try:
        with events.open("rb") as handle, Progress(console=console, transient=True) as bar:
            task = bar.add_task("replaying", total=_lines(events))
            for number, line in enumerate(handle, 1):
                bar.advance(task)
                if not line.strip():
                    continue
                try:
                    event = decode_event(line, limits)
                except BadInput as exc:
                    console.print(f"[red]line {number}:[/] {exc.message}"
                                  + (f" (field {exc.field})" if exc.field else ""))
                    raise typer.Exit(2) from None
                label = label_decoder.decode(line).label if b'"label"' in line else None
                if isinstance(event, Message) and label in ("spam", "ham"):
                    labelled = True
                else:
                    label = None
                pending.append((event, label))
                if len(pending) >= batch:
                    flush()
            flush()
    finally:
        if out:
            sink.close()
        engine.close()
    if labelled:
        _print_scorecard(card)


def _print_scorecard(card: Scorecard) -> None:
    out = Console()
    table = Table(title="replay scorecard: messages by action")
    table.add_column("label")
    for action in ACTIONS:
        table.add_column(action, justify="right")
    table.add_column("held or blocked", justify="right")
    for label in ("spam", "ham"):
        counts = card.actions[label]
        table.add_row(label, *(str(counts[a]) for a in ACTIONS), f"{card.stopped(label):.2%}")
    out.print(table)
    signals = Table(title="signals that fired")
    signals.add_column("signal")
    signals.add_column("on spam", justify="right")
    signals.add_column("on ham", justify="right")
    codes = sorted(set(card.signals["spam"]) | set(card.signals["ham"]),
                   key=lambda c: -(card.signals["spam"][c] + card.signals["ham"][c]))
    for code in codes:
        signals.add_row(code, str(card.signals["spam"][code]), str(card.signals["ham"][code]))
    out.print(signals)


BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@app.command()
def bench(
    names: Annotated[list[str] | None, typer.Argument(
        help="Benchmarks to run (engine, api, memory, matrix, xmpp, content, links, "
             "takeover, bulk); default: all, as one table.")] = None,
) -> None:
    """Run the benchmarks of a source checkout (its benchmarks/ folder) and print them."""
    if not (BENCHMARKS / "run.py").is_file():
        console.print("[red]bench:[/] the benchmarks live in the source checkout "
                      "(benchmarks/); this installation has none")
        raise typer.Exit(2)
    scripts = [BENCHMARKS / f"{name}.py" for name in names or ["run"]]
    unknown = [s.stem for s in scripts if not s.is_file() or s.stem == "table"]
    if unknown:
        known = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem not in ("run", "table"))
        console.print(f"[red]bench:[/] no benchmark {', '.join(unknown)} "
                      f"(known: {', '.join(known)})")
        raise typer.Exit(2)
    for script in scripts:
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        if code:
            raise typer.Exit(code)


app.command()(model_commands.train)
app.command()(model_commands.evaluate)
app.command("train-urls")(train_urls)
app.command()(simulate)
app.add_typer(model_commands.model_app, name="model")
app.add_typer(lists_app, name="lists")
app.add_typer(evidence_app, name="evidence")
app.add_typer(db_app, name="db")
app.command("import-history")(import_history)
app.add_typer(operators_app, name="operators")


def main() -> None:
    plain_help(typer.main.get_command(app))(prog_name="spimguard")
