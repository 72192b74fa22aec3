"""Detectors, registered in one place. Each module: a frozen settings class, SIGNALS, a
class, ``build``.

To add one: write the module to the shape of ``base.Detector``, add its builder
here, give its signal codes weights (and groups) in ``data/scores.toml``. One that keeps
learnt state in memory is also a ``base.Learner``; one that does part of its work for a
whole batch at once (numpy's cost per call paid once) is also a ``base.Batched``. One whose
``writes`` gives nothing for some events says so in its class's ``writes_for``
(``base.writes_for``: reports only, or none), and is not asked for them; a subclass that
overrides ``writes`` declares again, or is asked for every event. The same for ``reads``
and ``reads_for`` (``base.reads_for``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..config import Config
from . import (
    attachments,
    bulk,
    content,
    links,
    relationship,
    reputation,
    rules,
    sealed_bulk,
    sessions,
    takeover,
    velocity,
    waves,
)
from .base import Batched, Context, Detector, Facts, Learner, Outcome

BUILDERS: Mapping[str, Callable[[dict[str, Any], Config], Detector]] = {
    "rules": rules.build,
    "content": content.build,
    "links": links.build,
    "reputation": reputation.build,
    "sessions": sessions.build,
    "attachments": attachments.build,
    "takeover": takeover.build,
    "bulk": bulk.build,
    "velocity": velocity.build,
    "sealed_bulk": sealed_bulk.build,
    "relationship": relationship.build,
    "waves": waves.build,
}

SIGNALS: Mapping[str, str] = {
    **rules.SIGNALS, **content.SIGNALS, **links.SIGNALS, **reputation.SIGNALS,
    **attachments.SIGNALS, **sessions.SIGNALS, **takeover.SIGNALS, **bulk.SIGNALS,
    **velocity.SIGNALS, **sealed_bulk.SIGNALS, **relationship.SIGNALS,
    **waves.SIGNALS}

__all__ = ["BUILDERS", "SIGNALS", "Batched", "Context", "Detector", "Facts", "Learner",
           "Outcome"]
