"""Run every benchmark and print one table: ``python benchmarks/run.py``.

Needs the shared datasets beside the repository (../shared/datasets) for the
content, links, takeover and bulk figures; starts its own spimguard, Synapse,
Prosody and redis-server where a figure needs one (about 30 minutes in all; the
memory figure at 1,000,000 accounts needs about 10 GB of RAM).

Pinned to one core (os.sched_setaffinity) where the OS allows, since targets are
per core. Figures from one run on a shared machine: compare ratios, not absolutes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Sibling scripts, importable once their folder is on the path.
import api
import bulk
import content
import engine
import links
import matrix
import memory
import takeover
import text_worst
import xmpp
from table import DATASETS, show


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    show(engine.main() + api.main() + memory.main() + matrix.main() + xmpp.main()
         + content.main(DATASETS) + links.main(DATASETS) + takeover.main(DATASETS)
         + bulk.main(DATASETS) + text_worst.main())


if __name__ == "__main__":
    main()
