"""One hash of every answer the engine gives on ``engine.py``'s mixed load, per backend.

    python benchmarks/verdicts.py [--seed 7 --users 800] [--answers DIR]

A speed or memory change must leave every answer as it was: the hashes before and
after must be equal, and the memory backend's equal SQLite's (the same log gives the
same verdicts in any process, on any node). Counts of each action are printed beside.
With ``--answers``, every answer is written out too, one line each (``DIR/<backend>.jsonl``):
a hash that differs once, and never again, is then diffed answer by answer against a
clean run's, not guessed at from its counts (session 43, ``same43``).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import tempfile
from pathlib import Path

import msgspec

from engine import load
from spimguard import decode_event, load_config, open_engine
from spimguard.sim import network


def answers_hash(backend: str, lines: list[bytes], answers: Path | None = None
                 ) -> tuple[str, dict[str, int]]:
    """The first 16 hex digits of one SHA-256 over every answer, and the actions' counts;
    each answer written to ``answers``, one a line, when given."""
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    digest, counts = hashlib.sha256(), collections.Counter[str]()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        out = None if answers is None else stack.enter_context(answers.open("wb"))
        engine = open_engine(cfg, Path(folder) if backend == "sqlite" else None)
        events = [decode_event(line, cfg.limits) for line in lines]
        for start in range(0, len(events), 500):
            for result in engine.process_batch(events[start:start + 500]):
                encoded = msgspec.json.encode(result)
                digest.update(encoded)
                if out is not None:
                    out.write(encoded + b"\n")
                answer = msgspec.json.decode(encoded)
                counts[answer.get("action") or answer.get("status") or "?"] += 1
        engine.close()
    return digest.hexdigest()[:16], dict(sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--answers", type=Path, default=None,
                        help="a folder to write every answer to, one line each, a file a backend")
    args = parser.parse_args()
    if args.answers is not None:
        args.answers.mkdir(parents=True, exist_ok=True)
    lines = load(args.users, args.days, args.seed)
    hashes = set()
    for backend in args.backends.split(","):
        digest, counts = answers_hash(
            backend, lines, None if args.answers is None else args.answers / f"{backend}.jsonl")
        hashes.add(digest)
        print(backend, digest, counts, flush=True)
    print("SAME" if len(hashes) == 1 else "DIFFER")


if __name__ == "__main__":
    main()
