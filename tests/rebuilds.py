"""What a rebuilt model must share with the shipped one.

Not the same bytes: the solvers (L-BFGS-B, liblinear) stop at a tolerance along a path
whose last digits follow the numeric stack (``spimguard.model.stack``, which the card
records) and the BLAS kernels OpenBLAS selects for the CPU (on the same stack, an AMD
EPYC machine rebuilt the URL model with a weight the bundled one holds at 0.0 a hair
above it). So a rebuild matches a rounding apart: the same structure, names and texts,
each weight within ``WEIGHT_ROUNDING`` (in logits a change no verdict feels: the URL model's
weights moved at most 0.003 between scipy 1.16 and 1.17) and every other number (the
thresholds, held-out figures, the card's counts) within ``FIGURE_ROUNDING`` (they moved
at most 0.0005): a threshold near 1 moved by 0.009 is a different model, not a
rounding. A change to the data, the features or the recipe moves more, so it fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WEIGHT_ROUNDING = 0.005
FIGURE_ROUNDING = 0.001
# The parts that are a fit's weights (content: ``weights``, ``bias``; URLs: the rest).
WEIGHTS = frozenset({"weights", "bias", "coef", "intercept", "host_words", "path_words",
                     "tld"})


def differences(shipped: Any, rebuilt: Any, where: str = "",
                rounding: float = FIGURE_ROUNDING) -> list[str]:
    """Where two decoded artefacts differ by more than a rounding."""
    if isinstance(shipped, dict) and isinstance(rebuilt, dict):
        keys = set(shipped) - {"built_with"}
        if keys != set(rebuilt) - {"built_with"}:
            return [f"{where}: keys {sorted(keys ^ (set(rebuilt) - {'built_with'}))}"]
        return [d for k in sorted(keys)
                for d in differences(shipped[k], rebuilt[k], f"{where}.{k}",
                                     WEIGHT_ROUNDING if k in WEIGHTS else rounding)]
    if isinstance(shipped, (list, tuple, np.ndarray)) and isinstance(
            rebuilt, (list, tuple, np.ndarray)):
        if len(shipped) != len(rebuilt):
            return [f"{where}: {len(shipped)} items, rebuilt {len(rebuilt)}"]
        if isinstance(shipped, np.ndarray) and shipped.dtype.kind in "fiu":
            gap = float(np.max(np.abs(shipped.astype(float) - np.asarray(rebuilt, float)),
                               initial=0.0))
            return [f"{where}: numbers {gap:.4g} apart"] if gap > rounding else []
        return [d for i, (a, b) in enumerate(zip(shipped, rebuilt, strict=True))
                for d in differences(a, b, f"{where}[{i}]", rounding)]
    numbers = (int, float, np.number)
    if isinstance(shipped, numbers) and isinstance(rebuilt, numbers) and not isinstance(
            shipped, bool):
        return [f"{where}: {shipped} vs {rebuilt}"] if abs(
            float(shipped) - float(rebuilt)) > rounding else []
    return [] if shipped == rebuilt else [f"{where}: {shipped!r} vs {rebuilt!r}"]
