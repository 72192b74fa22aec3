"""``spimguard simulate``: a whole IM network under attack, and its scorecard."""

from __future__ import annotations

import json
import random
import time
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import campaigns
from ..config import load as load_config
from ..detectors import BUILDERS
from ..engine import open_engine
from ..errors import SpimguardError
from ..sim import network, scenarios, texts
from ..sim.runner import EngineSink, HttpSink, Sink, run
from ..sim.score import ACTIONS, figures, missed, parse_requirement, plot, rows, summary

app = typer.Typer()
console = Console(stderr=True, soft_wrap=True)  # a message stays one line in a log


@app.command()
def simulate(
    scenario: Annotated[str, typer.Option(
        help=f"One of: {', '.join(scenarios.SCENARIOS)}.")] = "mixed",
    users: Annotated[int, typer.Option(min=20, help="People on the platform.")] = 5000,
    days: Annotated[int, typer.Option(
        min=1, max=60, help="Days simulated; attacks come on the last.")] = 3,
    seed: Annotated[int, typer.Option(help="Same seed, same network and events.")] = 1,
    url: Annotated[str | None, typer.Option(
        help="A running spimguard server (http://host:port); default: in this process.")] = None,
    token: Annotated[str, typer.Option(help="Bearer token for --url.",
                                       envvar="SPIMGUARD_API_TOKEN")] = "",
    out: Annotated[Path | None, typer.Option(
        help="Folder for scorecard.json and timeline.png.")] = None,
    texts_from: Annotated[str | None, typer.Option(
        "--texts", help="Labelled messages for chat and bot texts (any format `train` "
        "reads, e.g. ../shared/datasets/sms-spam-collection/SMSSpamCollection); "
        "default: the bundled set.")] = None,
    require: Annotated[list[str] | None, typer.Option(
        help="KEY<=VALUE or KEY>=VALUE on the scorecard's metrics; exit 1 when missed. "
        "Repeatable.")] = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Events per batch.")] = 500,
    encrypted: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of all messages end-to-end encrypted (0..1): judged on "
        "metadata alone, drawn from the seed.")] = 0.0,
    verified: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of the owners' sign-ins on the platform's apps that it "
        "verifies from another of the owner's devices (a linked-device QR scan, Matrix "
        "cross-signing) and reports as a passed challenge of the session (0..1), drawn from "
        "the seed.")] = 0.0,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Keep the in-process run's database here (SQLite), to look at its "
        "campaigns and evidence afterwards (spimguard evidence export, spimguard serve); "
        "default: in memory.")] = None,
    without: Annotated[list[str] | None, typer.Option(
        help="Run with this detector disabled (e.g. content: what the other evidence "
        "contains on its own). Repeatable.")] = None,
) -> None:
    """Simulate an IM network under spim attack and print its scorecard.

    In-process runs use the embedded defaults (memory backend) with the
    simulator's official clients (im-android, im-ios, im-desktop); give a
    server the same with SPIMGUARD_OFFICIAL_CLIENTS for --url runs.
    """
    try:
        requirements = [parse_requirement(r) for r in require or []]
        rng = random.Random(seed)
        plan = scenarios.plan(network.build(users, rng), texts.load(texts_from), scenario,
                              days, rng)
        scenarios.encrypt(plan, encrypted, seed)
        scenarios.verify(plan, verified, seed)
        unknown = sorted({key for key, _, _ in requirements} - (known := figures(plan)))
        if unknown:
            raise ValueError(f"--require: no figure {', '.join(unknown)} in this scorecard "
                             f"(known: {', '.join(sorted(known))})")
        if unknown := sorted(set(without or ()) - set(BUILDERS)):
            raise ValueError(f"--without: no detector {', '.join(unknown)} (known: "
                             f"{', '.join(BUILDERS)})")
        if url and (data_dir or without):
            raise ValueError("--data-dir and --without are for in-process runs; a --url "
                             "server keeps its own data and settings")
        if url:
            sink: Sink = HttpSink(url, token)
        else:
            storage = ({"backend": "sqlite", "data_dir": str(data_dir)} if data_dir
                       else {"backend": "memory"})
            config = load_config(environ={}, storage=storage,
                                 official_clients=list(network.OFFICIAL_CLIENTS),
                                 detectors={d: {"enabled": False} for d in without or ()})
            sink = EngineSink(open_engine(config, data_dir))
        started = time.perf_counter()
        columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with closing(sink), Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("simulating", total=len(plan.events))

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            tally = run(plan, sink, batch_size=batch, seed=seed, advance=advance)
        card = summary(tally, scenario=scenario, users=users, days=days, seed=seed,
                       seconds=time.perf_counter() - started, encrypted=encrypted,
                       verified=verified)
    except (SpimguardError, ValueError, OSError) as exc:
        console.print(f"[red]simulate:[/] {exc}")
        raise typer.Exit(2) from None
    show(card)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "scorecard.json").write_text(json.dumps(card, indent=2) + "\n")
        plot(card, out / "timeline.png")
        console.print(f"wrote {out / 'scorecard.json'} and {out / 'timeline.png'}")
    if data_dir:
        _show_campaigns(data_dir)
    failures = missed(card, requirements)
    for failure in failures:
        console.print(f"[red]requirement missed:[/] {failure}")
    if failures:
        raise typer.Exit(1)
    if requirements:
        console.print(f"[green]requirements met:[/] {', '.join(require or [])}")


def _show_campaigns(data_dir: Path) -> None:
    """The campaigns the run found, and how to get each one's evidence."""
    engine = open_engine(load_config(environ={}, storage={"backend": "sqlite",
                                                          "data_dir": str(data_dir)}), data_dir)
    try:
        found = campaigns.listing(engine.records.committed(), limit=10)
    finally:
        engine.close()
    for c in found:
        console.print(f"campaign {c['id']}: {c['messages']} messages from {c['senders']} "
                      f"accounts ({', '.join(c['domains'][:3])})")
    if found:
        console.print(f"evidence: spimguard evidence export {found[0]['id']} --data-dir "
                      f"{data_dir} --out evidence-{found[0]['id']}")


def show(card: dict[str, Any]) -> None:
    out = Console()
    sealed = "".join(f" --{option} {card[option]:g}" for option in ("encrypted", "verified")
                     if card.get(option))
    table = Table(title=f"spimguard simulate --scenario {card['scenario']} --users "
                        f"{card['users']} --days {card['days']} --seed {card['seed']}{sealed}")
    for column in ("messages", "total", *ACTIONS, "held or blocked"):
        table.add_column(column, justify="left" if column == "messages" else "right")
    for row in rows(card):
        table.add_row(*row)
    out.print(table)
    contained = Table(title="attacked accounts and bots: spim delivered before containment")
    for column in ("scenario", "accounts", "median", "p90", "never contained"):
        contained.add_column(column, justify="left" if column == "scenario" else "right")
    for name, c in card["containment"].items():
        contained.add_row(name, str(c["accounts"]), f"{c['delivered_before_median']:g}",
                          str(c["delivered_before_p90"]), str(c["never_contained"]))
    out.print(contained)
    signals = Table(title="signals on messages not simply delivered")
    for column in ("signal", "on spim", "on ham"):
        signals.add_column(column, justify="left" if column == "signal" else "right")
    codes = {**card["signals"]["ham"], **card["signals"]["spim"]}
    for code in sorted(codes, key=lambda c: -(card["signals"]["spim"].get(c, 0)
                                              + card["signals"]["ham"].get(c, 0))):
        signals.add_row(code, f"{card['signals']['spim'].get(code, 0):,}",
                        f"{card['signals']['ham'].get(code, 0):,}")
    out.print(signals)
    budget = Table(title="precision budget: ham held or blocked per 10,000 ordinary messages")
    budget.add_column("cause (signals with points)")
    budget.add_column("per 10,000", justify="right")
    for cause, rate in card["precision_budget"].items():
        budget.add_row(cause, f"{rate:.2f}")
    if card["precision_budget"]:
        out.print(budget)
    metrics = card["metrics"]
    if card.get("released"):
        out.print("released by passed challenges: " + ", ".join(
            f"{n:,} {name}" for name, n in card["released"].items())
            + f" (median {metrics['release_delay_median']:.0f} s after sending, p90 "
              f"{metrics['release_delay_p90']:.0f} s); ham still held after challenges "
              f"{metrics['ham_still_stopped_share']:.3%}")
    innocents = card["innocent_accounts_actioned"]
    out.print(f"innocent accounts challenged or suspended: {len(innocents)}"
              + (f" ({', '.join(innocents[:10])})" if innocents else "")
              + f"; suspended: {len(card.get('innocent_accounts_suspended', []))}")
    out.print(f"{card['events']:,} events ({card['messages']:,} messages, "
              f"{card['reports']:,} reports) in {card['seconds']:.1f} s: "
              f"{card['metrics']['messages_per_second']:,.0f} messages/s")
