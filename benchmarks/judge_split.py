"""Instructions an event in each step of judging one (``Engine._process`` and what it calls),
by detector and by step, counted by callgrind: where the per-event path's cost goes.

    python benchmarks/judge_split.py [--users 150 --days 1] [--batch 500]

``batch_split.py`` splits a batch by its batch-level steps, each called through a C
function of the standard library that nothing else calls; there are about as many such
functions as it has steps, and judging an event has ~60 (three calls to each of 13
detectors, the policy, the notices, the log's record...). So here each step is called, in
the counted child only, through a C function of its own: a small extension module is
compiled for the run (``gcc`` against this Python's headers; one function a step, named
after it, that calls the step with its arguments). The function's inclusive cost in
callgrind's output is the step's, every Python frame it ran included, as with
``batch_split.py``'s. Nothing in ``src`` is changed or pays for it; ``test_judge42``
checks that ``src`` names none of these functions nor their module. (A first version
called back through ``ctypes``: libffi's assembly enters a function in a way callgrind
does not take for a call, and every step's cost fell into libffi's.)

A wrapped call costs its caller the wrapper (``_Step``: a Python frame, its counts) and,
inside its function, the call itself: both are measured in the same run (``_OUTER`` calls
``_EMPTY``, an empty step, ``_CALIBRATION`` times) and taken off, each step's own call's
inside part and, for the wrapped calls made inside it, their whole cost (counted a step).
What is left is a step's cost as if nothing were wrapped, but for what wrapping does to
the interpreter's caches (a detector's method is an attribute of the instance while it
runs): compare ``_process`` and planning with ``batch_split.py``'s.
A step inside another wrapped step stays counted in both (inclusive figures: ``_judge``
holds the detectors'). Steps inside ``_finish`` (the batch's end) are called directly,
so its state writes count there, not among the events' (``_OPAQUE``).

The default load is ``instructions.py``'s (``--users 150 --days 1``, 3,250 events), the
memory backend, at ``--batch`` events a batch; ~10 minutes on a loaded machine. ``--cold``:
``cold_instructions.py``'s cold load of the same events (every text new, no sender's
record kept decoded), what a platform's events pay.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import re
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import MethodType
from typing import Any

import cold_instructions
import engine
from table import show

# (label, holder, attribute): the holder is the engine ("engine"), one of its parts
# ("state", "records", "policy"), a module ("module:<name>"), every enabled detector
# ("detectors", one step each, labelled with its name), every enabled detector that has
# the attribute ("batched": those that prepare a batch), one detector ("detector:<name>",
# skipped when it is not enabled) or a part of one ("detector:<name>.<part>"), or a class
# whose method it is ("class:<module>.<Class>": every instance's calls, the step bound to
# each as a method). A class in a module (``Context``) is a step as a function is: its call
# makes the instance.
STEPS = (
    ("_process: judging an event, all of it", "engine", "_process"),
    ("  _judge (all but the repeats' answers)", "engine", "_judge"),
    ("    the state's reads (first read; deferred ones in detect too)", "state", "read"),
    ("    _read_more (deferred reads, inside detect)", "engine", "_read_more"),
    ("    _refresh_learners (the learnt count)", "engine", "_refresh_learners"),
    ("    _account (the account's record decoded)", "engine", "_account"),
    ("    takeover: record.decode (a record not kept decoded, from bytes)",
     "module:spimguard.detectors.takeover.record", "decode"),
    ("    trust.weigh (reports)", "module:spimguard.trust", "weigh"),
    ("    detect, every detector", "detectors", "detect"),
    ("      takeover: _session (session_facts, _unearned)", "detector:takeover", "_session"),
    ("        takeover: session.session_facts", "module:spimguard.detectors.takeover.session",
     "session_facts"),
    ("          takeover: Record.session (the stored session's dict)",
     "class:spimguard.detectors.takeover.record.Record", "session"),
    ("          takeover: session.signed_in", "module:spimguard.detectors.takeover.session",
     "signed_in"),
    ("          takeover: session.unfamiliar (a risky session judged again)",
     "module:spimguard.detectors.takeover.session", "unfamiliar"),
    ("        takeover: _unearned (an earned network's pitch)", "detector:takeover",
     "_unearned"),
    ("      takeover: _message (a message's signals)", "detector:takeover", "_message"),
    ("        takeover: _owner_writing (every message)", "detector:takeover",
     "_owner_writing"),
    ("        takeover: _established (memoised)", "detector:takeover", "_established"),
    ("        takeover: _later (a deferred read, all callers)",
     "module:spimguard.detectors.takeover.detector", "_later"),
    ("        takeover: profile.familiar (the detector's and profile's callers)",
     "module:spimguard.detectors.takeover.profile", "familiar"),
    ("        takeover: session.trusted", "module:spimguard.detectors.takeover.session",
     "trusted"),
    ("        takeover: profile.behaviour", "module:spimguard.detectors.takeover.profile",
     "behaviour"),
    ("        takeover: _dormant (burst.dormant_ties)", "detector:takeover", "_dormant"),
    ("      takeover: Record.profile (all callers)",
     "class:spimguard.detectors.takeover.record.Record", "profile"),
    ("    _decide (the policy and the notice)", "engine", "_decide"),
    ("      policy.decide", "policy", "decide"),
    ("        policy._scored", "policy", "_scored"),
    ("        policy._uncorroborated", "policy", "_uncorroborated"),
    ("      notices.for_verdict", "module:spimguard.notices", "for_verdict"),
    ("    _own_writes (ties, contacts, rooms)", "engine", "_own_writes"),
    ("      bulk: _make_read (the cluster read and what the message adds)", "detector:bulk",
     "_make_read"),
    ("        bulk: _decoded (the bands' cluster, its home read)", "detector:bulk",
     "_decoded"),
    ("        bulk: _count_fresh (new recipients, strangers among them)", "detector:bulk",
     "_count_fresh"),
    ("      velocity: _reach_of (the strangers and unvouched reached)",
     "module:spimguard.detectors.velocity", "_reach_of"),
    ("      links: _shape (the URL model's judgement)", "detector:links", "_shape"),
    ("      links: _owned (a popular site's own page)", "detector:links", "_owned"),
    ("    writes, every detector", "detectors", "writes"),
    ("      takeover: _changes (the record's changes, other writes)", "detector:takeover",
     "_changes"),
    ("        takeover: _learn (what a delivered message teaches)", "detector:takeover",
     "_learn"),
    ("          takeover: profile.learn (with remember)",
     "module:spimguard.detectors.takeover.profile", "learn"),
    ("          takeover: profile.remember (all callers)",
     "module:spimguard.detectors.takeover.profile", "remember"),
    ("          takeover: Record.count_sent", "class:spimguard.detectors.takeover.record.Record",
     "count_sent"),
    ("          takeover: Record.set_profile", "class:spimguard.detectors.takeover.record.Record",
     "set_profile"),
    ("          takeover: _reciprocating (the recipients vouching)",
     "module:spimguard.detectors.takeover.detector", "_reciprocating"),
    ("          takeover: _vouching (the owner's clean use)", "detector:takeover",
     "_vouching"),
    ("        takeover: _message_writes (burst, text, delivery)", "detector:takeover",
     "_message_writes"),
    ("          takeover: burst.pitchable", "module:spimguard.detectors.takeover.burst",
     "pitchable"),
    ("          takeover: _answers (a reply?)", "detector:takeover", "_answers"),
    ("        takeover: Record.set_session", "class:spimguard.detectors.takeover.record.Record",
     "set_session"),
    ("        takeover: Record.touch_live", "class:spimguard.detectors.takeover.record.Record",
     "touch_live"),
    ("      bulk: _put (the cluster encoded, its writes)", "module:spimguard.detectors.bulk",
     "_put"),
    ("    _own_record (the account's record as left)", "engine", "_own_record"),
    ("    accounts.folded (the record's put)", "module:spimguard.accounts", "folded"),
    ("    outbox_of (the log's entry built)", "module:spimguard.engine", "outbox_of"),
    ("    the state's writes", "state", "write"),
    ("    _save (the log's record kept)", "engine", "_save"),
    ("      records.save", "records", "save"),
    ("planning (_plan_batch; not in _process)", "engine", "_plan_batch"),
    ("  _plan (an event's context and reads)", "engine", "_plan"),
    ("    Context (made, with its __post_init__)", "module:spimguard.engine", "Context"),
    ("    text.view (the message's text view)", "module:spimguard.text", "view"),
    ("    _of_recipients (the names greeted, the kept recipients)", "engine",
     "_of_recipients"),
    ("    _own_reads (the account's record, the learnt count)", "engine", "_own_reads"),
    ("    reads, every detector", "detectors", "reads"),
    ("      bulk: _make_plan (the text's bands, ties, session)", "detector:bulk", "_make_plan"),
    ("        bulk: _keys (a text new to its cache: words, MinHash, band keys)",
     "module:spimguard.detectors.bulk", "_keys"),
    ("      velocity: _make_plan (windows, ties, cold)", "detector:velocity", "_make_plan"),
    ("    _Planned (the plan's struct)", "module:spimguard.engine", "_Planned"),
    ("  prepare, every batched detector", "batched", "prepare"),
    ("    features.batch_parts (content's hashed features)",
     "module:spimguard.detectors.content", "batch_parts"),
    ("      features._split_parts (the texts' words and cues)",
     "module:spimguard.model.features", "_split_parts"),
    ("      features._batch_keys (the hashed buckets, keyed by message)",
     "module:spimguard.model.features", "_batch_keys"),
    ("    the trained model's margins (one sparse product)", "detector:content.model",
     "margins"),
    ("    neighbours.sketches (waves' MinHash)", "module:spimguard.detectors.waves",
     "sketches"),
    ("      neighbours._words (the texts masked)", "module:spimguard.neighbours", "_words"),
    ("      neighbours._sketched (shingles, MinHash: a batch's texts to hash)",
     "module:spimguard.neighbours", "_sketched"),
    ("        neighbours._shingles (hashes, the table's out, each text's distinct)",
     "module:spimguard.neighbours", "_shingles"),
    ("          neighbours._hashes (every window's hash)", "module:spimguard.neighbours",
     "_hashes"),
    ("          neighbours._own (the ordinary table's look-up)", "module:spimguard.neighbours",
     "_own"),
    ("    waves: neighbours._bands (a sketch's band keys; detect's look-up, the index's)",
     "module:spimguard.neighbours", "_bands"),
    ("    waves: neighbours.similarity (a candidate's estimate)", "module:spimguard.neighbours",
     "similarity"),
    ("the batch's end (_finish; its steps not split)", "engine", "_finish"),
)
_OPAQUE = {"_finish"}  # steps whose inner steps are counted in them alone
_CALIBRATION = 2000
_EMPTY, _OUTER = "empty", "calls of the empty step"  # the calibration's steps


def _symbol(label: str) -> str:
    return "judge_step_" + re.sub(r"\W+", "_", label.strip()).strip("_")[:60]


def _library(symbols: list[str], folder: Path) -> Any:
    """A module of one C function a step (``gcc``, against this Python's headers), each
    calling its first argument with the rest: ``judge_step_x(step, *args, **kwargs)``.
    Called from the eval loop as any builtin is, so callgrind sees each as a function of
    its own (a ``ctypes`` call, through libffi's assembly, is not seen as a call)."""
    functions = "\n".join(
        f"static PyObject *{name}(PyObject *m, PyObject *const *a, Py_ssize_t n, "
        f"PyObject *k) {{ return PyObject_Vectorcall(a[0], a + 1, n - 1, k); }}"
        for name in symbols)
    table = ", ".join(f'{{"{name}", (PyCFunction)(void (*)(void)){name}, '
                      f"METH_FASTCALL | METH_KEYWORDS, NULL}}" for name in symbols)
    source = f"""#define PY_SSIZE_T_CLEAN
#include <Python.h>
{functions}
static PyMethodDef methods[] = {{{table}, {{NULL, NULL, 0, NULL}}}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "judge_steps", NULL, -1, methods}};
PyMODINIT_FUNC PyInit_judge_steps(void) {{ return PyModule_Create(&module); }}
"""
    (folder / "judge_steps.c").write_text(source)
    built = folder / ("judge_steps" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}",
                    "-o", str(built), str(folder / "judge_steps.c")], check=True)
    spec = importlib.util.spec_from_file_location("judge_steps", built)
    assert spec is not None and spec.loader is not None
    library = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(library)
    return library


class _Step:
    """A step called through its C function; a step already running (its own recursion)
    or inside an opaque one is called directly. ``counts[name]``: its calls and the
    wrapped calls made inside them (each costs its caller ``_Step``'s own work)."""

    def __init__(self, name: str, step: Callable[..., Any], through: Callable[..., Any],
                 counts: dict[str, list[int]], opaque: bool = False) -> None:
        self.name, self.step, self.through = name, step, through
        self.opaque, self.depth = opaque, 0
        self.counted = counts.setdefault(name, [0, 0])

    def __call__(self, *a: Any, **k: Any) -> Any:
        if self.depth or _MADE[1]:
            return self.step(*a, **k)
        counted = self.counted
        counted[0] += 1
        _MADE[0] += 1
        before = _MADE[0]
        self.depth += 1
        _MADE[1] += self.opaque
        try:
            return self.through(self.step, *a, **k)
        finally:
            self.depth -= 1
            _MADE[1] -= self.opaque
            counted[1] += _MADE[0] - before

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """A step set on a class ("class:" holders) is its instances' method: bound in C
        (``MethodType``), as a function's own binding is. Set on a module or an instance,
        it is never asked."""
        return self if instance is None else MethodType(self, instance)


_MADE = [0, 0]  # wrapped calls made, and opaque steps running


def _targets(engine: Any) -> list[tuple[str, Any, str]]:
    """(label, holder, attribute) of every step on this engine, detectors' one a detector."""
    out = []
    enabled = [d for d in engine.detectors if d.name not in engine.disabled]
    for label, holder, attribute in STEPS:
        if holder in ("detectors", "batched"):
            out += [(f"{label.split(',')[0]}: {d.name}", d, attribute) for d in enabled
                    if hasattr(d, attribute)]
        elif holder.startswith("detector:"):
            name, _, part = holder[9:].partition(".")
            out += [(label, getattr(d, part) if part else d, attribute) for d in enabled
                    if d.name == name]
        elif holder.startswith(("module:", "class:")):
            kind, _, name = holder.partition(":")
            module, _, owner = name.rpartition(".") if kind == "class" else (name, "", "")
            found = importlib.import_module(module)
            out.append((label, getattr(found, owner) if owner else found, attribute))
        else:
            out.append((label, engine if holder == "engine" else getattr(engine, holder),
                        attribute))
    return out


def wrap_steps(engine: Any, folder: Path, counts: dict[str, list[int]]
               ) -> Callable[[], None]:
    """Each step of ``STEPS`` called through its own C function, on this engine; returns
    the calibration: ``_OUTER`` calls the empty step ``_CALIBRATION`` times, with three
    arguments (a wrapped call's cost inside its function, and in its caller's)."""
    targets = _targets(engine)
    symbols = [_symbol(label) for label, _, _ in targets] + [_symbol(_EMPTY), _symbol(_OUTER)]
    library = _library(symbols, folder)
    for (label, holder, attribute), symbol in zip(targets, symbols, strict=False):
        setattr(holder, attribute, _Step(label, getattr(holder, attribute),
                                         getattr(library, symbol), counts,
                                         attribute in _OPAQUE))
    empty = _Step(_EMPTY, lambda *_: None, getattr(library, symbols[-2]), counts)

    def calls() -> None:
        for _ in range(_CALIBRATION):
            empty(1, 2, 3)
    return _Step(_OUTER, calls, getattr(library, symbols[-1]), counts)


def child(lines_file: str, batch: int, folder: str, cold: bool = False) -> None:
    """What callgrind runs: the engine, its steps wrapped, over the saved load (``cold``:
    no takeover record kept decoded, as ``cold_instructions.py``'s cold load)."""
    from spimguard import decode_event, load_config, open_engine
    from spimguard.detectors.takeover import detector
    from spimguard.sim import network

    if cold:
        detector._DECODED_KEPT = 0

    lines = pickle.loads(Path(lines_file).read_bytes())
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, None)
    counts: dict[str, list[int]] = {}
    calibrate = wrap_steps(engine, Path(folder), counts)
    calibrate()
    events = [decode_event(line, cfg.limits) for line in lines]
    for start in range(0, len(events), batch):
        engine.process_batch(events[start:start + batch])
    engine.close()
    (Path(folder) / "counts.json").write_text(json.dumps(counts))


def inclusive(out: Path) -> dict[str, int]:
    """Each step's function's inclusive instructions in the main thread's callgrind file."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                           str(out)], check=True, capture_output=True, text=True).stdout
    found: dict[str, int] = {}
    for count, function in re.findall(r"^\s*([\d,]+) \([^)]*\)\s+\S*?:(judge_step_\w+) \[",
                                      text, re.M):
        found.setdefault(function, int(count.replace(",", "")))
    return found


def main(users: int = 150, days: int = 1, batch: int = 500, cold: bool = False
         ) -> list[tuple[str, str]]:
    lines = (cold_instructions.cold_load if cold else engine.load)(users, days)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines_file = folder / "lines.pkl"
        lines_file.write_bytes(pickle.dumps(lines))
        out = folder / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        "--separate-threads=yes", sys.executable, __file__, "--child",
                        str(lines_file), str(batch), str(folder), *(("--cold",) if cold else ())],
                       check=True,
                       capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
        found = inclusive(folder / f"{out.name}-01")
        counts = json.loads((folder / "counts.json").read_text())
    inside = found.get(_symbol(_EMPTY), 0) / _CALIBRATION
    wrapped = (found.get(_symbol(_OUTER), 0) - inside) / _CALIBRATION
    rows = [(f"{'cold' if cold else 'mixed'} load: {users:,} users, {days} days, events; "
             f"batches of {batch}",
             f"{len(lines):,}"),
            ("a wrapped call's cost inside its function / in all, taken off below",
             f"{inside:,.0f} / {wrapped:,.0f}"),
            ("instructions an event (net of the wrappers) / calls an event", "")]
    for label, (calls, inner) in counts.items():
        if label in (_EMPTY, _OUTER):
            continue
        net = (found.get(_symbol(label), 0) - inside * calls - wrapped * inner) / len(lines)
        rows.append((label, f"{net:,.0f} / {calls / len(lines):.2f}"))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:] == ["--cold"])
elif __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--cold", action="store_true",
                        help="cold_instructions.py's cold load: texts new, no record kept")
    args = parser.parse_args()
    show(main(args.users, args.days, args.batch, args.cold))
