"""Session 43's ``same43``: ``benchmarks/verdicts.py --answers`` writes every answer out.

A verdict hash that differed once under load (SQLite's ``47af23d117889132`` beside
memory's ``90852b91fb21926f``) could not be diffed: nothing but the hash and the actions'
counts was left of it. With ``--answers`` each answer is kept, one line each, so the
first that differs is found; these tests hold the lines to be the answers the hash was
taken over, in order, and the hash to be the one taken without them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

# The benchmark's modules from this tree's ``benchmarks`` (not on the test command's path:
# the path is put back once they are imported, as ``test_batch41`` does).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import engine as engine_benchmark
    import verdicts


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return engine_benchmark.load(20, 1, 3)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_answers_written_are_what_the_hash_is_of(backend: str, lines: list[bytes],
                                                 tmp_path: Path) -> None:
    written = tmp_path / f"{backend}.jsonl"
    digest, counts = verdicts.answers_hash(backend, lines, written)
    answers = written.read_bytes().splitlines()
    assert len(answers) == len(lines) == sum(counts.values())
    assert hashlib.sha256(b"".join(answers)).hexdigest()[:16] == digest
    assert verdicts.answers_hash(backend, lines) == (digest, counts)
