"""What every benchmark script shares: where the datasets are, how rows are printed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

Rows = list[tuple[str, str]]
DATASETS = Path(__file__).resolve().parents[1].parent / "shared/datasets"


def show(rows: Rows) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>12}")


def run_with_datasets(main: Callable[[Path], Rows], doc: str | None) -> None:
    """The command line of a benchmark that reads ../shared/datasets."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    show(main(parser.parse_args().datasets))
