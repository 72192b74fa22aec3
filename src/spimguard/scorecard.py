"""Scorecards: how labelled spam and ham fared, by action and by signal."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .events import Verdict

ACTIONS = ("deliver", "warn", "hold", "block")


@dataclass
class Scorecard:
    actions: dict[str, Counter[str]] = field(
        default_factory=lambda: {"spam": Counter(), "ham": Counter()})
    signals: dict[str, Counter[str]] = field(
        default_factory=lambda: {"spam": Counter(), "ham": Counter()})

    def add(self, label: str, verdict: Verdict) -> None:
        if label not in self.actions:
            return
        self.actions[label][verdict.action] += 1
        for signal in verdict.signals:
            self.signals[label][signal.code] += 1

    def total(self, label: str) -> int:
        return sum(self.actions[label].values())

    def stopped(self, label: str) -> float:
        """Share held or blocked."""
        total = self.total(label)
        stopped = self.actions[label]["hold"] + self.actions[label]["block"]
        return stopped / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            label: {"total": self.total(label), "stopped_share": round(self.stopped(label), 5),
                    "actions": {a: self.actions[label][a] for a in ACTIONS},
                    "signals": dict(self.signals[label].most_common())}
            for label in ("spam", "ham")
        }
