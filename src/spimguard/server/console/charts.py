"""Bar charts as plain SVG geometry, drawn by the templates (no script, no library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 160


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str  # a class of the stylesheet, e.g. the verdict's action
    title: str  # the tooltip: the figures behind the bar


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    peak: int
    labels: tuple[tuple[float, str], ...]  # (x, text) under the axis
    width: int = WIDTH
    height: int = HEIGHT


def stacked(columns: Sequence[tuple[str, Mapping[str, int]]], order: Sequence[str]) -> Chart:
    """One column per (label, counts by series), series stacked in ``order``."""
    peak = max((sum(counts.values()) for _, counts in columns), default=0)
    if not columns or not peak:
        return Chart((), 0, ())
    step = WIDTH / len(columns)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    every = max(1, len(columns) // 8)
    for index, (label, counts) in enumerate(columns):
        top = float(HEIGHT)
        for series in order:
            value = counts.get(series, 0)
            if not value:
                continue
            height = HEIGHT * value / peak
            top -= height
            bars.append(Bar(index * step + 1, top, max(step - 2, 1), height, series,
                            f"{label}: {value} {series}"))
        if index % every == 0:
            labels.append((index * step, label))
    return Chart(tuple(bars), peak, tuple(labels))
