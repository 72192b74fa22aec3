"""The numeric libraries a model was fitted with, recorded in its card.

A solver's answer is exact only for one build of the libraries under it: L-BFGS-B
(scipy) and liblinear (scikit-learn) stop at a tolerance along a path that BLAS
(numpy) and each release's own code choose, so the same data and seed give the same
bytes on the same stack and weights a rounding apart on another. The card says which
stack built the shipped artefact, so a rebuild knows whether to expect the same bytes.
"""

from __future__ import annotations

from importlib.metadata import version

LIBRARIES = ("numpy", "scipy", "scikit-learn")


def numeric_stack() -> dict[str, str]:
    """The installed version of each library a fit depends on."""
    return {name: version(name) for name in LIBRARIES}
