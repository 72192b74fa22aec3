"""Detectors, registered in one place. Each module: DEFAULTS, SIGNALS, a class, ``build``.

To add one: write the module to the shape of ``base.Detector``, add its builder
here, give its signal codes weights (and groups) in ``data/scores.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import rules, velocity
from .base import Context, Detector, Facts, Outcome

BUILDERS: Mapping[str, Callable[[dict[str, Any]], Detector]] = {
    "rules": rules.build,
    "velocity": velocity.build,
}

SIGNALS: Mapping[str, str] = {**rules.SIGNALS, **velocity.SIGNALS}

__all__ = ["BUILDERS", "SIGNALS", "Context", "Detector", "Facts", "Outcome"]
