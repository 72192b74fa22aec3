"""Hostile input on 64 KiB: the Matrix HTML reader and the event decoder; and what one
event at the contract's bounds costs the engine.

    python benchmarks/hostile.py

Each pattern is repeated to 64 KiB (the limit on a message's text and on a Matrix
event), and the best of 5 runs is printed. Target: every input under 50 ms on one
core. The patterns are those that made the standard library's HTMLParser (and
typical hand-written readers) super-linear or raise: openers without closers,
unterminated quotes and comments, nesting, tag floods, entity floods.

Then the engine (``open_engine``, memory and SQLite) judges the largest events the
validation allows (10,000 recipients, members or contacts of 512 characters each), and
the floods whose cost grows with what came before (``tests/test_attack_costs.py``):
CPU time of the event, the second of two (the first pays for loading).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import time
import timeit
from collections.abc import Callable
from typing import Any

import msgspec

from spimguard import load_config, open_engine
from spimguard.errors import BadInput
from spimguard.events import Limits, decode_batch, decode_event
from table import Rows, show

KIB64 = 64 * 1024
HTML = ["<a ", "<!--", "<![ x", '<a x="', "<b>x</b>", "<a>", "<br>", "<", "&", "&amp;",
        "<a href=x>", "<a b c d e f ", "<mx-reply>", "</a", "<script>", "</", "<a =\"",
        "<p>word ", "plain text, no markup at all. "]
JSON = ["[", "{\"a\":", "\"", "1,", "[1e400,", "{\"events\":[{\"type\":\"message\","]


def _filled(unit: str) -> str:
    return (unit * (KIB64 // len(unit) + 1))[:KIB64]


def _best(run: object) -> float:
    # CPU time of this process: on a shared machine, wall time mostly measures the others.
    return min(timeit.repeat(run, timer=time.process_time, number=1, repeat=5))  # type: ignore[arg-type]


def main() -> Rows:
    from spimguard.server.mxhtml import visible_text

    limits = Limits()
    sources = {unit: _filled(unit) for unit in HTML}
    html = sorted(((_best(lambda u=u: visible_text(sources[u])), u) for u in HTML),
                  reverse=True)

    def decode(body: bytes) -> None:
        with contextlib.suppress(BadInput):
            decode_batch(body, limits)

    bodies = {unit: _filled(unit).encode() for unit in JSON}
    json = sorted(((_best(lambda u=u: decode(bodies[u])), u) for u in JSON), reverse=True)
    rows: Rows = [("Matrix HTML reader, 64 KiB, ms (target < 50)", "")]
    rows += [(f"  {unit!r} repeated", f"{seconds * 1000:.1f}") for seconds, unit in html]
    rows += [("event decoder (/v1/events), 64 KiB, ms", "")]
    rows += [(f"  {unit!r} repeated", f"{seconds * 1000:.2f}") for seconds, unit in json]
    return rows + events() + floods()


T0 = 1_790_000_000.0
LONG = [f"@r{k}:" + "s" * 500 for k in range(10_000)]  # 10,000 ids of ~507 characters


def _cpu(run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def _largest(i: int) -> dict[str, dict[str, Any]]:
    """The largest event of each kind the default limits take (``i``: fresh ids)."""
    room = {"type": "room", "id": f"r{i}", "account": "@a", "conversation": "!r",
            "members": LONG}
    return {
        "message, 10,000 recipients": {"type": "message", "id": f"m{i}", "sender": "@s",
                                       "recipients": LONG, "text": "buy now http://x.com"},
        "message, 8 links, 10,000 recipients": {
            "type": "message", "id": f"m8-{i}", "sender": "@s", "recipients": LONG,
            "text": " ".join(f"http://shop{k}.example{k}.com/x" for k in range(8))},
        "encrypted, 10,000 recipients": {"type": "message", "id": f"e{i}", "sender": "@s",
                                         "recipients": LONG, "encrypted": True, "size": 9,
                                         "session": "s" * 512},
        "invite, 10,000 recipients": {"type": "invite", "id": f"i{i}", "sender": "@s",
                                      "recipients": LONG, "conversation": "!r"},
        "contacts, 10,000": {"type": "contacts", "id": f"c{i}", "account": "@s",
                             "contacts": LONG},
        "room join, 10,000 members": room,
        "room leave, 10,000 members": {**room, "id": f"l{i}", "membership": "leave"},
    }


def events() -> Rows:
    rows: Rows = [("one event at the bounds, ms CPU (second of two)", "memory / SQLite")]
    figures: dict[str, list[str]] = {}
    for backend in ("memory", "sqlite"):
        folder = tempfile.mkdtemp()
        engine = open_engine(load_config(environ={}, storage={"backend": backend,
                                                              "data_dir": folder}), folder)
        for i in range(2):
            for name, fields in _largest(i).items():
                event = decode_event(msgspec.json.encode({**fields, "ts": T0 + i}),
                                     engine.config.limits)
                seconds = _cpu(functools.partial(engine.process, event))
                if i:
                    figures.setdefault(name, []).append(f"{seconds * 1000:.0f}")
    rows += [(f"  {name}", " / ".join(values)) for name, values in figures.items()]
    return rows


def _last_500(engine: Any, batch: list[Any]) -> str:
    """ms CPU an event of the batch's last 500, the rest judged first."""
    engine.process_batch(batch[:-500])
    return f"{_cpu(functools.partial(engine.process_batch, batch[-500:])) * 2:.2f}"


def floods() -> Rows:
    """Costs that grow with what came before: many touches of one set at one event time,
    new correspondents of one account past its cap, a remote server filling a room."""
    from spimguard.server.matrix import MatrixBridge
    from spimguard.server.metrics import Metrics

    rows: Rows = [("floods (memory), ms CPU per event", "")]
    for spacing in (0.0, 0.001):
        engine = open_engine(load_config(environ={}, storage={"backend": "memory"}))
        batch = decode_batch(msgspec.json.encode({"events": [
            {"type": "message", "id": f"m{i}", "ts": T0 + i * spacing, "sender": f"@s{i}",
             "recipients": [f"@v{i}"], "text": "look http://promo-deals.example.com/x"}
            for i in range(3_000)]}), engine.config.limits)
        rows.append((f"  one link from the 2,501st-3,000th sender, {spacing * 1000:g} ms apart",
                     _last_500(engine, batch)))
    engine = open_engine(load_config(environ={}, storage={"backend": "memory"}))
    batch = decode_batch(msgspec.json.encode({"events": [
        {"type": "message", "id": f"m{i}", "ts": T0 + i, "sender": f"@s{i}",
         "recipients": ["@v"], "text": "hello there"} for i in range(3_000)]}),
        engine.config.limits)
    rows.append(("  to one account from its 2,501st-3,000th sender", _last_500(engine, batch)))
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": "t" * 32})
    bridge = MatrixBridge(open_engine(settings), settings.matrix, Metrics())
    # A message judged sets the engine's clock: the joins after it are written at its time.
    bridge.engine.process(decode_event(msgspec.json.encode(
        {"type": "message", "id": "m", "ts": T0, "sender": "@a:s", "recipients": ["@b:s"],
         "text": "hello"}), settings.limits))

    def joins(first: int, last: int) -> None:
        for i in range(first, last):
            bridge.event({"event": {"type": "m.room.member", "sender": f"@p{i}:evil",
                                    "room_id": "!r:s", "state_key": f"@p{i}:evil",
                                    "content": {"membership": "join"}}})

    joins(0, 2_000)
    seconds = _cpu(lambda: joins(2_000, 2_500))
    rows.append(("  remote Matrix join, the 2,001st-2,500th into one room, between two "
                 "messages", f"{seconds * 2:.2f}"))
    return rows


if __name__ == "__main__":
    show(main())
