"""Instructions a takeover record's encoding and decoding cost, counted by callgrind on
real records; and how often a load's events decode their sender's record.

    python benchmarks/record_encode.py [--users 150 --days 1] [--kept 0]

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

Decoding is counted the same way, on the bytes of every put (``decode``, each record once,
another callgrind run): what an event pays whose sender's record is not kept decoded
(``detector._DECODED_KEPT``). The benchmark's load never pays it (150 senders, 2,048 kept),
a platform's does at nearly every event (100 million accounts, a batch's senders mostly
different); ``--kept`` runs the load with that many kept (0: none, every event of a sender
decodes what the last put) and prints how many records its events decoded, with a digest
of every decoded record (``repr``: values, order, the sign of a zero), which a change to the
decoding's speed must leave as it is. (Session 48 changed the decoded form, the profile's
hours kept as stored, ``takeover.histogram``: the digest is that form's since.)
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

import engine
from table import show


def caught(lines: list[bytes], kept: int | None, batch: int = 1
           ) -> tuple[list[tuple[Any, ...]], int, int]:
    """The arguments of every ``put_of`` of a run of ``lines`` (the memory backend,
    ``batch`` events at once), the records its events decoded from bytes and its events;
    ``kept``: the decoded records the detector keeps (None: as it is)."""
    from spimguard.detectors.takeover import detector, record

    put_of, decode, held = record.put_of, record.decode, detector._DECODED_KEPT
    puts: list[bytes] = []
    decoded = 0

    def catching(*args: Any) -> Any:
        puts.append(pickle.dumps(args))
        return put_of(*args)

    def counting(stored: Any) -> Any:
        nonlocal decoded
        decoded += stored.__class__ is bytes
        return decode(stored)

    detector.put_of = record.put_of = catching  # type: ignore[assignment]  # (this run only)
    detector.decode = record.decode = counting  # type: ignore[assignment]
    detector._DECODED_KEPT = held if kept is None else kept
    try:
        engine.judged(lines, batch)
    finally:
        detector.put_of = record.put_of = put_of  # type: ignore[assignment]  # (put back)
        detector.decode = record.decode = decode  # type: ignore[assignment]
        detector._DECODED_KEPT = held
    return [pickle.loads(put) for put in puts], decoded, len(lines)


def child(records_file: str, decoding: bool) -> None:
    """What callgrind runs: every record encoded once (or its bytes decoded once), inside
    ``functools.reduce``."""
    from spimguard.detectors.takeover.record import decode, put_of

    records = pickle.loads(Path(records_file).read_bytes())
    for args in records[:50]:
        put_of(*args)  # the bounded caches warm, as a running process has them
    if decoding:
        stored = [put_of(*args).value for args in records]
        for value in stored[:50]:
            decode(value)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                   capture_output=True)
    if decoding:
        functools.reduce(lambda _, value: decode(value), stored, None)
    else:
        functools.reduce(lambda _, args: put_of(*args), records, None)


def counted(records_file: Path, decoding: bool) -> int:
    """The instructions of ``child``'s loop, by callgrind."""
    out = records_file.with_suffix(".out")
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
                    sys.executable, __file__, "--child", str(records_file),
                    *(("--decoding",) if decoding else ())],
                   check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
    if found is None:
        raise RuntimeError(f"no summary in {out}")
    return int(found.group(1))


def main(users: int = 150, days: int = 1, kept: int | None = None) -> list[tuple[str, str]]:
    from spimguard.detectors.takeover.record import decode, put_of

    records, decodes, events = caught(engine.load(users, days), kept)
    digest, decoded, size = hashlib.sha256(), hashlib.sha256(), 0
    for args in records:
        put = put_of(*args)
        digest.update(put.key.encode())
        digest.update(put.value)
        digest.update(repr(put.ttl).encode())
        decoded.update(repr(decode(put.value)).encode())
        size += len(put.value)
    with tempfile.TemporaryDirectory() as name:
        records_file = Path(name) / "records.pkl"
        records_file.write_bytes(pickle.dumps(records))
        encoding, decoding = counted(records_file, False), counted(records_file, True)
    return [(f"records put, mixed load: {users:,} users, {days} days, batches of one",
             f"{len(records):,}"),
            (f"records decoded from bytes, {'as kept' if kept is None else f'{kept:,} kept'}"
             f" (of {events:,} events)", f"{decodes:,}"),
            ("instructions a record's put (put_of: key, encoding, Put)",
             f"{encoding // len(records):,}"),
            ("instructions a record's decoding (decode, its put's bytes)",
             f"{decoding // len(records):,}"),
            ("bytes a record (encoded)", f"{size / len(records):,.1f}"),
            ("digest of every put (key, bytes, TTL)", digest.hexdigest()[:16]),
            ("digest of every decoded record (repr)", decoded.hexdigest()[:16])]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3:] == ["--decoding"])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--kept", type=int, default=None,
                        help="decoded records the detector keeps in the run (default: as it is)")
    args = parser.parse_args()
    show(main(args.users, args.days, args.kept))
