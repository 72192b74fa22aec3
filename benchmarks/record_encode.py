"""Instructions a takeover record's encoding costs, counted by callgrind on real records.

    python benchmarks/record_encode.py [--users 150 --days 1]

The takeover detector encodes each account's record once a batch (``finish``, ``put_of``):
at the server's batches of one nearly once an event. This catches every record the mixed
load's batch-of-one run puts (``engine.load``, the memory backend: the arguments of
``put_of``, pickled as they were when put), then encodes them all again under
``valgrind --tool=callgrind``, counting only the loop: instrumentation starts off
(``--instr-atstart=no``, so the imports run at nearly native speed) and is turned on by
``callgrind_control`` once the records are read, and only what runs inside
``functools.reduce`` (the loop, which nothing else calls) is collected. The figure is the
instructions of one ``put_of`` (key, encoding, ``Put``) averaged over the records, with
the bounded caches warm as a running process has them (the first 50 encoded first).
Also printed: the records' bytes and a digest of every put (key, bytes, TTL), which a
change to the encoding's speed must leave as they are. ~1-2 minutes.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from table import show


def caught(users: int, days: int) -> list[tuple[Any, ...]]:
    """The arguments of every ``put_of`` of a batch-of-one run of the mixed load."""
    import engine
    from spimguard import decode_event, load_config, open_engine
    from spimguard.detectors.takeover import detector, record
    from spimguard.sim import network

    put_of = record.put_of
    puts: list[bytes] = []

    def catching(*args: Any) -> Any:
        puts.append(pickle.dumps(args))
        return put_of(*args)

    lines = engine.load(users, days)
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    detector.put_of = record.put_of = catching  # type: ignore[assignment]  # (this run only)
    try:
        judge = open_engine(cfg, None)
        for line in lines:
            judge.process_batch([decode_event(line, cfg.limits)])
        judge.close()
    finally:
        detector.put_of = record.put_of = put_of  # type: ignore[assignment]  # (put back)
    return [pickle.loads(put) for put in puts]


def child(records_file: str) -> None:
    """What callgrind runs: every record encoded once, inside ``functools.reduce``."""
    from spimguard.detectors.takeover.record import put_of

    records = pickle.loads(Path(records_file).read_bytes())
    for args in records[:50]:
        put_of(*args)  # the bounded caches warm, as a running process has them
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                   capture_output=True)
    functools.reduce(lambda _, args: put_of(*args), records, None)


def main(users: int = 150, days: int = 1) -> list[tuple[str, str]]:
    from spimguard.detectors.takeover.record import put_of

    records = caught(users, days)
    digest, size = hashlib.sha256(), 0
    for args in records:
        put = put_of(*args)
        digest.update(put.key.encode())
        digest.update(put.value)
        digest.update(repr(put.ttl).encode())
        size += len(put.value)
    with tempfile.TemporaryDirectory() as name:
        records_file, out = Path(name) / "records.pkl", Path(name) / "callgrind.out"
        records_file.write_bytes(pickle.dumps(records))
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--child", str(records_file)],
                       check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
        found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
        if found is None:
            raise RuntimeError(f"no summary in {out}")
    return [(f"records put, mixed load: {users:,} users, {days} days, batches of one",
             f"{len(records):,}"),
            ("instructions a record's put (put_of: key, encoding, Put)",
             f"{int(found.group(1)) // len(records):,}"),
            ("bytes a record (encoded)", f"{size / len(records):,.1f}"),
            ("digest of every put (key, bytes, TTL)", digest.hexdigest()[:16])]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    show(main(args.users, args.days))
