"""Signals: the evidence a detector emits. Detectors never decide; the policy does.

A signal's ``strength`` is how sure the detector is (0..1); the weight that turns
it into points lives in config (``data/scores.toml``), so operators retune the
filter without touching detector code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

Override = Literal["allow", "hold", "block"]


class Signal(NamedTuple):
    code: str
    strength: float
    detail: str
    # A hard, named result (an operator block, an allowlisted sender, a suspended
    # session): the policy honours it whatever the score, block > hold > allow.
    override: Override | None = None
    # What the notices should say when this signal carries the decision:
    # "topic" picks the templates (recipient_<topic>, sender_<topic>), the other
    # keys fill their placeholders. Values are computed facts, never message text.
    about: Mapping[str, str] | None = None
