"""What a touch of a session's record costs with many sessions on one account (memory).

    python benchmarks/guests.py [--sessions 1 2 8 16 100 1000 5000] [--touches 1000]

A session's record (``tk:session:<account>:<session>``) is lodged in its account's object
(``state/memory.py``, ``_Account.guests``). Anyone who can log in to one account can open
sessions on it, each a record there: this times ``--touches`` touches of the sessions'
records (one name each, round-robin, one write a touch, the best of three runs) on an
account with ``--sessions`` sessions already, and says how many are lodged in the account
and how many bytes its guests hold. Lodged guests are scanned and rewritten at each touch,
so the figure grew with the sessions until their number lodged was capped
(``_LODGED_GUESTS``): the review of session 20 measured 9 → 258 ms at 1,000 sessions.
Since, the most an account lodges all touched in turn is the worst (``--sessions 8``): past
them, a session's record is a record of its own, touched in place. The process's CPU time
(the machine is shared: read the growth, not the last digit).
"""

from __future__ import annotations

import argparse
import time

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Touch

ACCOUNT = "@target:example.org"


def timed(sessions: int, touches: int) -> tuple[float, int, int]:
    """The best of three runs' milliseconds for ``touches`` touches, with the sessions
    lodged in the account and its guests' bytes."""
    names = [keys.lifelong(ACCOUNT, f"DEVICE{i:06d}") for i in range(sessions)]
    state = MemoryState()
    state.write([Touch(name, ("@peer:example.org",), side=keys.PALS) for name in names], T0)
    best = float("inf")
    for run in range(3):
        now = T0 + 1 + run
        start = time.process_time()
        for i in range(touches):
            state.write([Touch(names[i % sessions], (f"@p{i % 7}:example.org",),
                               side=keys.PALS)], now)
        best = min(best, time.process_time() - start)
    host = state.accounts()[accounts.tie_record(ACCOUNT)]
    return best * 1_000, len(host.guest_items()), len(host.guests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 8, 16, 100, 1_000, 5_000])
    parser.add_argument("--touches", type=int, default=1_000)
    args = parser.parse_args()
    print(f"{'sessions':>9} {'ms':>9} {'lodged':>7} {'bytes lodged':>13}")
    for sessions in args.sessions:
        ms, lodged, size = timed(sessions, args.touches)
        print(f"{sessions:>9,} {ms:>9.1f} {lodged:>7,} {size:>13,}")


if __name__ == "__main__":
    main()
