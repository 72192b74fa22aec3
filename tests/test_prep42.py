"""Session 42's ``prep42``: a batch of one looks its kept answers up alone.

At the server's batches of one, the waves detector's sketch and the content model's
margins of a text seen before are looked up without the batch's lists (``kept.touched``,
``neighbours.kept_sketch``). A cut of that kind may change no answer: a kept answer is the
one ``kept.answers`` hands back, and touched as it touches it, so every sketch, score and
verdict is the same bit for bit at batches of 1, 2, 17 and 500.
"""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import numpy as np
import pytest

from spimguard import decode_event, load_config, open_engine
from spimguard.detectors.base import Context
from spimguard.kept import UNKEPT, answers, touched
from spimguard.neighbours import kept_sketch, sketch
from spimguard.sim import network

# The mixed load of the benchmarks, from this tree's ``benchmarks`` (the path put back once
# imported, as ``test_batch41`` does).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import engine as engine_benchmark

SIZES = (1, 2, 17, 500)


def _config() -> object:
    return load_config(environ={}, storage={"backend": "memory"},
                       official_clients=list(network.OFFICIAL_CLIENTS))


def test_a_kept_answer_touched_alone_is_answers_own_in_answers_order() -> None:
    """A hit: the answer ``answers`` gives, and the same order after (the key last); a
    miss: ``UNKEPT``, and nothing changed."""
    def computed(new: list[int]) -> list[str]:
        raise AssertionError(f"a kept key was computed again: {new}")

    alone = {"a": 1.5, "b": None, "c": 3.0}
    batch = dict(alone)
    assert touched(alone, "b") is None
    assert answers(batch, ["b"], [1], computed, 10) == [None]
    assert list(alone.items()) == list(batch.items()) == [("a", 1.5), ("c", 3.0), ("b", None)]
    assert touched(alone, "z") is UNKEPT
    assert list(alone.items()) == [("a", 1.5), ("c", 3.0), ("b", None)]


def _waves_contexts(engine: object, events: list[object]) -> list[Context]:
    waves = next(d for d in engine.detectors if d.name == "waves")  # type: ignore[attr-defined]
    enabled = engine._roles().enabled  # type: ignore[attr-defined]
    return [c for c in (engine._plan(e, enabled).ctx for e in events)  # type: ignore[attr-defined]
            if waves._has_text(c)]


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and a.dtype == b.dtype and a.tobytes() == b.tobytes())


def test_the_waves_sketches_are_the_same_at_every_batch_size() -> None:
    """Each message's sketch, prepared in batches of 1, 2, 17 and 500 (nothing kept from
    another size), is the one sketched alone without a batch, bit for bit; at batches
    of one, repeated texts take the kept path (``kept_sketch`` answers them)."""
    cfg = _config()
    engine = open_engine(cfg, None)  # type: ignore[arg-type]
    waves = next(d for d in engine.detectors if d.name == "waves")
    events = [decode_event(line, cfg.limits)  # type: ignore[attr-defined]
              for line in engine_benchmark.load(40, 1)]
    alone = [sketch(c.view, c.names, waves._ordinary)
             for c in _waves_contexts(engine, events)]
    assert sum(s is not None for s in alone) > 100
    for size in SIZES:
        waves._sketched.clear()
        found = _waves_contexts(engine, events)
        hits = 0
        for start in range(0, len(found), size):
            part = found[start:start + size]
            if size == 1:
                kept = kept_sketch(part[0].view, part[0].names, dict(waves._sketched))
                hits += kept is not UNKEPT and kept is not None
            waves.prepare(part)
        assert len(found) == len(alone) > 500
        for ctx, expected in zip(found, alone, strict=True):
            assert _same(ctx.scratch[waves.name], expected), (size, ctx.event.id)
        if size == 1:
            assert hits > 50, "no repeated text took the kept path"


def _judged(lines: list[bytes], size: int) -> tuple[list[bytes], list[bytes]]:
    """The results, and every entry the verdict log keeps (each detector's ``keep``:
    sketches, buckets), of the load judged in batches of ``size``."""
    cfg = _config()
    engine = open_engine(cfg, None)  # type: ignore[arg-type]
    events = [decode_event(line, cfg.limits) for line in lines]  # type: ignore[attr-defined]
    results = []
    for start in range(0, len(events), size):
        results += [msgspec.json.encode(r)
                    for r in engine.process_batch(events[start:start + size])]
    logged = [msgspec.msgpack.encode(e, enc_hook=float) for e in engine.records._log.values()]  # type: ignore[attr-defined]
    engine.close()
    return results, logged


def test_the_engine_answers_and_logs_the_same_at_every_batch_size(
        caplog: pytest.LogCaptureFixture) -> None:
    """The mixed load's answers and verdict log (what each detector keeps of a message)
    the same at batches of 1, 2, 17 and 500, and no detector failed on the way (a
    failing detector is logged and left out: that would hide a difference)."""
    lines = engine_benchmark.load(30, 1)
    with caplog.at_level(logging.ERROR, logger="spimguard"):
        judged = {size: _judged(lines, size) for size in SIZES}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(judged[1][0]) == len(lines) > 500
    for size in SIZES[1:]:
        assert judged[size] == judged[1], size
