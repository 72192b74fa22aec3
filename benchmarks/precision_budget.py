"""The precision budget: ham held or blocked per 10,000 ordinary messages, by cause.

Reads scorecards written by ``spimguard simulate --out DIR`` and prints, per
scenario, the rate of each cause (the signal codes that added points to a held
ham message); then, per kind of message (each scenario's ham and spim, each trap),
what the kind met: ham stopped and warned per 10,000 of that kind (the cost to one
kind of legitimate traffic, which the budget over all ham dilutes), spim stopped
(recall) and reaching its recipients; then draws the causes as stacked bars:

    spimguard simulate --scenario quiet --users 500 --days 2 --seed 101 --out out/quiet
    ...
    python benchmarks/precision_budget.py out/*/scorecard.json \\
        --plot benchmarks/results/precision-budget.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

TOP = 6  # causes drawn one by one; the rest are summed as "other"


def budget_rows(cards: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """(scenario, cause, per 10,000) for every cause of every scorecard."""
    rows = []
    for card in cards:
        label = f"{card['scenario']} (seed {card['seed']})"
        causes = card["precision_budget"] or {"(none held)": 0.0}
        rows.extend((label, cause, rate) for cause, rate in causes.items())
    return rows


def kind_rows(cards: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(scenario, kind, what it met) for every scenario's ham and spim and every trap."""
    rows = []
    for card in cards:
        label = f"{card['scenario']} (seed {card['seed']})"
        kinds = [*card["by_scenario"].items(),
                 *((f"trap: {t}", c) for t, c in card["traps"].items())]
        for kind, counts in kinds:
            total = counts["total"]
            if not total:
                continue
            if kind.endswith(" spim"):
                reached = (counts["deliver"] + counts["warn"]) / total
                met = (f"stopped {counts['stopped_share']:7.2%}  reached {reached:7.2%}"
                       f"  of {total:,}")
            else:
                stopped = (counts["hold"] + counts["block"]) * 10_000 / total
                met = (f"stopped {stopped:8.1f}  warned {counts['warn'] * 10_000 / total:8.1f}"
                       f"  per 10,000 of {total:,}")
            rows.append((label, kind, met))
    return rows


def plot(cards: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals: dict[str, float] = {}
    for card in cards:
        for cause, rate in card["precision_budget"].items():
            totals[cause] = totals.get(cause, 0.0) + rate
    top = sorted(totals, key=lambda c: -totals[c])[:TOP]
    labels = [f"{c['scenario']}\nseed {c['seed']}" for c in cards]
    figure, axes = plt.subplots(figsize=(10, 5), dpi=100)
    bottom = [0.0] * len(cards)
    for cause in [*top, "other"]:
        values = [sum(r for k, r in c["precision_budget"].items() if k not in top)
                  if cause == "other" else c["precision_budget"].get(cause, 0.0)
                  for c in cards]
        if any(values):
            axes.bar(labels, values, bottom=bottom, label=cause.replace("+", " + "))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("ham held or blocked per 10,000 ordinary messages")
    axes.set_title("spimguard precision budget, by cause (signals that added points)")
    axes.legend(fontsize="x-small", loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scorecards", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path, help="write the stacked bars here (PNG)")
    args = parser.parse_args()
    cards = [json.loads(p.read_text()) for p in args.scorecards]
    for scenario, cause, rate in budget_rows(cards):
        print(f"{scenario:<24} {rate:>9.2f}  {cause}")
    print()
    for scenario, kind, met in kind_rows(cards):
        print(f"{scenario:<24} {kind:<26} {met}")
    if args.plot:
        plot(cards, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
