"""Instructions of a new text's content features alone, at a batch size: the figure to cut.

    python benchmarks/features_cost.py [--texts 2000] [--batch 500 [--batch 1 ...]]

``text_view.py --features`` counts the same part by subtracting one whole callgrind run
from another (each a few minutes, the view's cost and noise in both); here callgrind
counts only the features: ``text_view.py``'s corpus is built, warmed and viewed as its
``child`` does, the first text's features taken (they build the tables), then
``features.batch_parts`` of the other texts in batches of ``--batch`` run inside one
``functools.reduce`` with collection toggled on that C function alone
(``--collect-atstart=no --toggle-collect=functools_reduce``), the method of
``features46``'s write-up. Printed: instructions a new text (``PYTHONHASHSEED=0``, one
BLAS thread: the same code counts the same).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from table import Rows, show
from text_view import _warm, corpus


def child(count: int, size: int) -> None:
    """What callgrind runs: the corpus viewed, the tables built, then the counted part."""
    from spimguard.model import features
    from spimguard.text import _view
    texts = corpus(count)
    _warm()
    views = [_view(text) for text in texts]
    features.batch_parts([(view, ()) for view in views[:1]])
    batches = [[(view, ()) for view in views[start:start + size]]
               for start in range(1, len(views), size)]
    functools.reduce(lambda _, batch: features.batch_parts(batch), batches, None)


def counted(count: int, size: int) -> int:
    """Callgrind's instructions inside the reduce, a text (all but the first)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        "--collect-atstart=no", "--toggle-collect=functools_reduce",
                        sys.executable, __file__, "--child", str(count), str(size)],
                       check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
        found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
        if found is None:
            raise RuntimeError(f"no summary in {out}")
    return int(found.group(1)) // (count - 1)


def main(count: int, sizes: list[int]) -> Rows:
    return [(f"instructions a new text's content features, batches of {size} (callgrind)",
             f"{counted(count, size):,}") for size in sizes]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), int(sys.argv[3]))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch", type=int, action="append",
                        help="a batch size (repeatable; 500 if none)")
    args = parser.parse_args()
    show(main(args.texts, args.batch or [500]))
