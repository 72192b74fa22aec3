"""``spimguard train`` and ``spimguard evaluate``: the content model, built and measured."""

from __future__ import annotations

import hashlib
import shlex
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..config import Config
from ..errors import BadInput, SpimguardError
from ..model import card as model_card
from ..model import crosscorpus, datasets, scorer
from ..model import train as training
from ..model.evaluate import (
    ACTIONS,
    Thresholds,
    auc,
    confusion,
    plot,
    recall_at_ham_rates,
    thresholds,
)
from ..text import view
from .common import config_or_exit

app = typer.Typer()
console = Console()
errors = Console(stderr=True)


def _samples(specs: list[str]) -> list[datasets.Sample]:
    try:
        loaded = [s for spec in specs for s in datasets.read(spec)]
    except BadInput as exc:
        errors.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from None
    kept = datasets.dedupe(loaded)
    errors.print(f"{len(loaded)} messages read, {len(kept)} after removing duplicates "
                 f"({sum(s.spam for s in kept)} spam, {sum(1 - s.spam for s in kept)} ham)")
    return kept


def _report(labels: np.ndarray, p: np.ndarray, limits: Thresholds, title: str) -> dict:
    counts = confusion(labels, p, limits)
    spam_total, ham_total = max(int(labels.sum()), 1), max(int((labels == 0).sum()), 1)
    stopped_spam = (counts["spam"][2] + counts["spam"][3]) / spam_total
    stopped_ham = (counts["ham"][2] + counts["ham"][3]) / ham_total
    flagged = counts["spam"][2] + counts["spam"][3] + counts["ham"][2] + counts["ham"][3]
    precision = (counts["spam"][2] + counts["spam"][3]) / flagged if flagged else 1.0
    table = Table(title=f"{title}: messages by action (content alone; warn p≥{limits.warn}, "
                        f"hold p≥{limits.hold}, block p≥{limits.block})")
    table.add_column("label")
    for action in ACTIONS:
        table.add_column(action, justify="right")
    table.add_column("held or blocked", justify="right")
    table.add_row("spam", *map(str, counts["spam"]), f"{stopped_spam:.2%}")
    table.add_row("ham", *map(str, counts["ham"]), f"{stopped_ham:.3%}")
    console.print(table)
    console.print(f"precision of hold+block {precision:.4f}, recall {stopped_spam:.4f}, "
                  f"ROC AUC {auc(labels, p):.5f}")
    curve = Table(title="operating curve: best spam recall at a given share of ham stopped")
    for column in ("ham stopped at most", "p threshold", "spam recall"):
        curve.add_column(column, justify="right")
    points = recall_at_ham_rates(labels, p)
    for rate, threshold, recall in points:
        curve.add_row(f"{rate:.1%}", f"{threshold:.4f}", f"{recall:.2%}")
    console.print(curve)
    return {"confusion": counts, "spam_stopped": round(stopped_spam, 4),
            "ham_stopped": round(stopped_ham, 5), "precision": round(precision, 4),
            "auc": round(auc(labels, p), 5),
            "curve": [{"ham_rate": r, "threshold": round(t, 4), "recall": round(c, 4)}
                      for r, t, c in points]}


@app.command()
def train(
    data: Annotated[list[str] | None, typer.Option(
        "--data", help="Labelled set: a file in a known format, or PATH=spam / PATH=ham for "
                       "one message a line. Repeat for several.")] = None,
    corpora: Annotated[Path | None, typer.Option(
        help="The public datasets folder: rebuild the bundled model's recipe from it "
             "(byte for byte).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Where to write the model (.npz); with --corpora, default: the bundled "
             "model in this source tree.")] = None,
    card: Annotated[Path | None, typer.Option(help="Also write a model card (Markdown): "
                                                   "leave-one-corpus-out figures with "
                                                   "--corpora, else grouped 5-fold CV.")
                    ] = None,
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation.")] = training.C,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
) -> None:
    """Train the content model reproducibly (fixed seed) from labelled sets."""
    if corpora:
        _train_shipped(corpora, out, card)
        return
    if not data or not out:
        errors.print("[red]give --corpora DATASETS, or --data (repeatable) and --out[/]")
        raise typer.Exit(2)
    samples = _samples(data)
    with Progress(console=errors, transient=True) as bar:
        task = bar.add_task("hashing features", total=len(samples))
        model = training.train(samples, c=c, progress=lambda n: bar.advance(task, n))
    words = ["spimguard", "train", *(w for d in data for w in ("--data", d)), "--out", str(out)]
    words += ["--card", str(card)] if card else []
    words += ["--c", str(c)] if c != training.C else []
    command = " ".join(shlex.quote(w) for w in words)
    model.card.update({"command": command, "sources": dict(Counter(s.source for s in samples))})
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    errors.print(f"model written to {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if card:
        labels = np.array([s.spam for s in samples])
        p = training.cross_validate(samples, c=c)
        metrics = _report(labels, p, thresholds(config_or_exit(config), model),
                          "5-fold CV on the training data")
        card.write_text(_card(model.card, metrics, samples), "utf-8")
        errors.print(f"card written to {card}")


def _train_shipped(root: Path, out: Path | None, card: Path | None) -> None:
    target = out or Path(str(resources.files("spimguard.model").joinpath(scorer.BUNDLED)))
    with Progress(console=errors, transient=True) as bar:
        task = bar.add_task("hashing features", total=None)
        model = training.shipped(root, progress=lambda n: bar.advance(task, n))
    target.parent.mkdir(parents=True, exist_ok=True)
    model.save(target)
    errors.print(f"model written to {target} ({target.stat().st_size / 1e6:.1f} MB, "
                 f"sha256 {hashlib.sha256(target.read_bytes()).hexdigest()[:16]}…)")
    if card:
        card.write_text(model_card.render(root, model, target), "utf-8")
        errors.print(f"card written to {card}")


def _card(meta: dict, metrics: dict, samples: list[datasets.Sample]) -> str:
    per_source: dict[str, list[int]] = {}
    for s in samples:
        per_source.setdefault(s.source, [0, 0])[s.spam] += 1
    rows = "\n".join(f"| `{name}` | {spam} | {ham} |" for name, (ham, spam) in
                     sorted(per_source.items()))
    curve = "\n".join(f"| {c['ham_rate']:.1%} | {c['threshold']} | {c['recall']:.2%} |"
                      for c in metrics["curve"])
    spam_row = " | ".join(map(str, metrics["confusion"]["spam"]))
    ham_row = " | ".join(map(str, metrics["confusion"]["ham"]))
    return f"""# Content model card

- Seed {meta['seed']}, logistic regression (liblinear),
  C = {meta['C']}, 2^{meta['bits']} hashed feature buckets (see `features.py`).
- Reproduce: `{meta['command']}`
- Messages after de-duplication: {meta['samples']} ({meta['spam']} spam, {meta['ham']} ham).

| source | spam | ham |
| --- | --- | --- |
{rows}

Licences: UCI SMS Spam Collection (free with attribution; UCI lists CC BY 4.0),
Mishra & Soni SMS phishing set (Mendeley Data, CC BY 4.0 as published, unverified
from the GitHub copy), Rahmi & Wibisono Indonesian SMS spam (CC BY-SA 4.0). The
weights derive from a CC BY-SA 4.0 set, so this artefact is offered under
CC BY-SA 4.0. Cite: Almeida, Gómez Hidalgo & Yamakami (DocEng 2011); Mishra &
Soni (SoCPaR 2022); Rahmi & Wibisono (2016).

## 5-fold cross-validation on the training data (grouped by fingerprint)

Content alone, at the default thresholds of `detectors/content.py`:

| label | deliver | warn | hold | block |
| --- | --- | --- | --- | --- |
| spam | {spam_row} |
| ham | {ham_row} |

Spam held or blocked: {metrics['spam_stopped']:.2%}; ham held or blocked:
{metrics['ham_stopped']:.3%}; ROC AUC {metrics['auc']}.

| ham stopped at most | p threshold | spam recall |
| --- | --- | --- |
{curve}

More figures (UCI-only CV, cross-set, a new wave learnt from reports):
`python benchmarks/content.py`.
"""


def loco_table(rows: list[crosscorpus.Row], title: str) -> None:
    table = Table(title=title)
    for column in crosscorpus.Row.header():
        table.add_column(column, no_wrap=True,
                         justify="left" if column == "left-out corpus" else "right")
    for r in rows:
        table.add_row(*r.cells())
    # Wide enough for every column whatever the terminal (or pipe) says.
    Console(width=max(console.width, 150)).print(table)


def _loco(root: Path, model: Path | None, config: Config) -> None:
    """The bundled (or given) model on the corpora it never trained on, then its recipe
    left-one-corpus-out over every corpus."""
    loaded = crosscorpus.load(root)
    try:
        shipped = scorer.load(model)
    except SpimguardError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    limits = thresholds(config, shipped)
    seen = training.trained_on(shipped.card)
    unseen = crosscorpus.never_trained(loaded, shipped, seen)
    loco_table(crosscorpus.table(unseen, limits),
               f"model {model or 'bundled'} on corpora it never trained on (test halves)")
    held = crosscorpus.leave_one_out(loaded, training.train,
                                     lambda name: errors.print(f"leaving out {name}"))
    loco_table(crosscorpus.table(held, limits),
               "its recipe, leave-one-corpus-out (test halves, grouped by fingerprint)")


@app.command()
def evaluate(
    data: Annotated[list[str] | None, typer.Option(
        "--data", help="Labelled set: a file in a known format, or PATH=spam / PATH=ham for "
                       "one message a line. Repeat for several.")] = None,
    loco: Annotated[Path | None, typer.Option(
        help="The public datasets folder: print the leave-one-corpus-out table instead.")
                    ] = None,
    model: Annotated[Path | None, typer.Option(help="Model file (default: bundled).")] = None,
    cv: Annotated[int, typer.Option(help="K-fold cross-validation on --data instead of "
                                         "scoring with a model (0 = off).")] = 0,
    train_data: Annotated[list[str] | None, typer.Option(
        "--train-data", help="Train on these sets, then test on --data messages that are "
                             "not in them (a cross-set test).")] = None,
    plots: Annotated[Path | None, typer.Option(help="Folder for ROC and PR curves (PNG).")
                     ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
) -> None:
    """Precision, recall, ham stopped at the configured thresholds, curves."""
    if loco:
        _loco(loco, model, config_or_exit(config))
        return
    if not data:
        errors.print("[red]give --data (one or more labelled sets) or --loco[/]")
        raise typer.Exit(2)
    samples = _samples(data)
    if train_data:
        train_samples = _samples(train_data)
        seen = {datasets.key(s.text) for s in train_samples}
        samples = [s for s in samples if datasets.key(s.text) not in seen]
        errors.print(f"testing on {len(samples)} messages not in the training sets")
        fitted = training.train(train_samples)
        p = np.array([fitted.probability(view(s.text)) for s in samples])
        title = "cross-set test"
    elif cv:
        p = training.cross_validate(samples, folds=cv)
        title = f"{cv}-fold cross-validation"
    loaded = None
    if not train_data and not cv:
        try:
            loaded = scorer.load(model)
        except SpimguardError as exc:
            errors.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
        p = np.array([loaded.probability(view(s.text)) for s in samples])
        title = f"model {model or 'bundled'}"
    labels = np.array([s.spam for s in samples])
    _report(labels, p, thresholds(config_or_exit(config), loaded), title)
    if plots:
        for path in plot(labels, p, plots):
            console.print(f"wrote {path}")
