"""Hostile input on 64 KiB: the Matrix HTML reader and the event decoder.

    python benchmarks/hostile.py

Each pattern is repeated to 64 KiB (the limit on a message's text and on a Matrix
event), and the best of 5 runs is printed. Target: every input under 50 ms on one
core. The patterns are those that made the standard library's HTMLParser (and
typical hand-written readers) super-linear or raise: openers without closers,
unterminated quotes and comments, nesting, tag floods, entity floods.
"""

from __future__ import annotations

import contextlib
import time
import timeit

from spimguard.errors import BadInput
from spimguard.events import Limits, decode_batch
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
    return rows


if __name__ == "__main__":
    show(main())
