"""``spimguard check | replay``: messages judged in this process, one or a recorded log."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..engine import Engine, open_engine
from ..errors import BadInput
from ..events import Message, Verdict, decode_event
from ..scorecard import ACTIONS, Scorecard
from .common import ConfigOpt, config_or_exit

app = typer.Typer()
# Messages are never wrapped: piped to a log, a line stays one line (a path or URL intact).
console = Console(stderr=True, soft_wrap=True)

DataDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder of the embedded SQLite database (default: in memory).")]


def _engine(config_path: Path | None, data_dir: Path | None) -> Engine:
    storage = {"backend": "sqlite", "data_dir": str(data_dir)} if data_dir else {
        "backend": "memory"}
    return open_engine(config_or_exit(config_path, storage=storage))


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
