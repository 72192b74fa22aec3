"""Instructions an event when no sender's record is kept decoded: what a platform pays.

    python benchmarks/cold_instructions.py [--users 150 --days 1] [--batch 1]

``instructions.py``'s figure (the memory backend, every detector), with the takeover
detector keeping no record decoded between batches (``detector._DECODED_KEPT`` 0): every
event whose sender the batch has not met yet decodes the record it read, as nearly every
event does at 100 million accounts, where the detector keeps a few thousand. The
benchmark's load has 150 senders, so with the 2,048 kept its events decode none
(``record_encode.py --kept``) and ``instructions.py`` never counts the decoding. Nothing
but the keeping changes: the same records, puts and verdicts (``_DECODED_KEPT`` only
spares decodes of what the detector itself put). ~25 minutes at batches of one.
"""

from __future__ import annotations

import argparse
import sys

import instructions
from spimguard.detectors.takeover import detector
from table import show

detector._DECODED_KEPT = 0  # this process and its callgrind child
instructions.__file__ = __file__  # the child callgrind runs is this script, keeping none


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        instructions.child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
                           int(sys.argv[6]))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1,
                        help="events handed to the engine at once")
    args = parser.parse_args()
    show(instructions.main(args.users, args.days, "all", "memory", args.batch))
