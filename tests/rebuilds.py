"""What a rebuilt model must share with the shipped one.

On the numeric stack the card records (``spimguard.model.stack``), the same bytes. On
another, the solver stops a rounding away: the same structure, names and texts, every
number within ``ROUNDING`` (in logits a change no verdict feels: the URL model's
weights moved at most 0.003 between scipy 1.16 and 1.17). A change to the data, the
features or the recipe moves far more, so it still fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spimguard.model.stack import numeric_stack

ROUNDING = 0.01


def same_stack(recorded: object) -> bool:
    return recorded == numeric_stack()


def differences(shipped: Any, rebuilt: Any, where: str = "") -> list[str]:
    """Where two decoded artefacts differ by more than a rounding."""
    if isinstance(shipped, dict) and isinstance(rebuilt, dict):
        keys = set(shipped) - {"built_with"}
        if keys != set(rebuilt) - {"built_with"}:
            return [f"{where}: keys {sorted(keys ^ (set(rebuilt) - {'built_with'}))}"]
        return [d for k in sorted(keys)
                for d in differences(shipped[k], rebuilt[k], f"{where}.{k}")]
    if isinstance(shipped, (list, tuple, np.ndarray)) and isinstance(
            rebuilt, (list, tuple, np.ndarray)):
        if len(shipped) != len(rebuilt):
            return [f"{where}: {len(shipped)} items, rebuilt {len(rebuilt)}"]
        if isinstance(shipped, np.ndarray) and shipped.dtype.kind in "fiu":
            gap = float(np.max(np.abs(shipped.astype(float) - np.asarray(rebuilt, float)),
                               initial=0.0))
            return [f"{where}: numbers {gap:.4g} apart"] if gap > ROUNDING else []
        return [d for i, (a, b) in enumerate(zip(shipped, rebuilt, strict=True))
                for d in differences(a, b, f"{where}[{i}]")]
    numbers = (int, float, np.number)
    if isinstance(shipped, numbers) and isinstance(rebuilt, numbers) and not isinstance(
            shipped, bool):
        return [f"{where}: {shipped} vs {rebuilt}"] if abs(
            float(shipped) - float(rebuilt)) > ROUNDING else []
    return [] if shipped == rebuilt else [f"{where}: {shipped!r} vs {rebuilt!r}"]
