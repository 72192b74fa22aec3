"""Session 41's ``batch41``: a small batch's fixed cost, split by step.

``benchmarks/batch_split.py`` counts each batch-level step's instructions by calling it
through a C function of the standard library that nothing else calls (its inclusive cost
in callgrind is then the step's). These tests hold it to that: the engine's own code
calls none of those functions, and a wrapped engine judges as an unwrapped one. And a
guard for whoever cuts the content detector's batch work next (a property that holds
today): the model's scores are the same floats whatever the batch's size.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import msgspec
import pytest

from spimguard import decode_event, load_config, open_engine
from spimguard.detectors.base import Context
from spimguard.model import features
from spimguard.sim import network

# The benchmark's modules from this tree's ``benchmarks`` (not on the test command's path:
# the path is put back once they are imported, as ``test_view40`` does).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import batch_split
    import engine as engine_benchmark

SRC = Path(__file__).resolve().parents[1] / "src" / "spimguard"
# What each of ``batch_split.STEPS``' C functions is called as from Python.
_MODULES = {"functools": {"reduce"}, "operator": {"call", "methodcaller"},
            "itertools": {"starmap", "takewhile", "dropwhile"}}


def _calls_a_steps_function(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in _MODULES:
            found += [a.name for a in node.names if a.name in _MODULES[node.module]]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.attr in _MODULES.get(node.value.id, ())):
            found.append(f"{node.value.id}.{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "iter" and len(node.args) == 2):
            found.append("iter(callable, sentinel)")
    return found


def test_no_engine_code_calls_a_function_the_split_counts_a_step_by() -> None:
    """A step's count would hold another's (or its own twice) if the engine called its C
    function itself: none of ``src`` does."""
    assert {step[2] for step in batch_split.STEPS} == {*batch_split._THROUGH,
                                                       "gc_collect_main"}
    offending = {str(path.relative_to(SRC)): found for path in sorted(SRC.rglob("*.py"))
                 if (found := _calls_a_steps_function(ast.parse(path.read_text())))}
    assert offending == {}


def _lines() -> list[bytes]:
    return engine_benchmark.load(20, 1)[:240]


def _judged(lines: list[bytes], size: int, wrapped: bool) -> list[bytes]:
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, None)
    if wrapped:
        batch_split.wrap_steps(engine)
    events = [decode_event(line, cfg.limits) for line in lines]
    out = []
    for start in range(0, len(events), size):
        out += [msgspec.json.encode(r) for r in engine.process_batch(events[start:start + size])]
    engine.close()
    return out


@pytest.mark.parametrize("size", [1, 7])
def test_an_engine_whose_steps_the_split_wraps_judges_as_one_unwrapped(size: int) -> None:
    """Every wrapper hands its step's answer back (``process_batch``'s results, the plans,
    ``_process``'s result): the same verdicts, in the same order."""
    lines = _lines()
    assert _judged(lines, size, wrapped=True) == _judged(lines, size, wrapped=False)


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def test_the_content_models_scores_are_the_same_floats_at_every_batch_size() -> None:
    """The trained and taught margins of each message, prepared in batches of 1, 2, 17
    and 500 (nothing kept from another size: the caches emptied) and scored alone
    without a batch (``_scored``'s own path), bit for bit; with the online part
    teaching, so that its margins are not all zero. Holds on base too: a guard for a cut
    of the batch's scoring."""
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, None)
    content = next(d for d in engine.detectors if d.name == "content")
    events = [decode_event(line, cfg.limits) for line in engine_benchmark.load(40, 1)]
    enabled = engine._roles().enabled

    def contexts() -> list[Context]:
        return [c for c in (engine._plan(e, enabled).ctx for e in events)
                if content._scores(c)]

    first = contexts()
    taught = [features.parts(c.view, content.model.bits, c.names)[1] for c in first[:60]]
    content.online.apply_many([(t, 0.0, 1.0) for t in taught] * 2)
    scores = {}
    for size in (0, 1, 2, 17, 500):
        features._parts_cache.clear()
        content._margins.clear()
        content._online_margins.clear()
        found = contexts()
        for start in range(0, len(found), size or len(found)):
            if size:
                content.prepare(found[start:start + size])
        scores[size] = [(t.tobytes(), _bits(m), _bits(b))
                        for t, m, b in map(content._scored, found)]
    assert len(scores[0]) > 500
    assert any(m != b for _, m, b in scores[0]), "the online part taught nothing"
    for size in (1, 2, 17, 500):
        assert scores[size] == scores[0], size
