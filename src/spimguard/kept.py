"""Answers kept across batches, by what they are a function of.

The server's group commit hands the engine one to a few events a batch, so a stage that
computes a pure function of a message's text in one numpy call for the batch (a text's
sketch, the content model's margins) pays that call's fixed cost for every message. Chat
repeats its lines and a wave its pitch: an answer computed in an earlier batch is the
answer again, so it is kept here and looked up instead (the caller says what the answer
is a function of, and drops its ``kept`` when anything else it depends on moves).

Bounded twice: only texts up to ``CACHED_CHARS`` long are kept (as the text view's own
cache), and at most ``bound`` answers, the least recently used let go first (a dict keeps
insertion order; an answer used is put back last). O(1) a message.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from .text import CACHED_CHARS

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)

UNKEPT: Any = object()  # an answer ``kept`` does not hold (None may be an answer)


def answers(kept: dict[Hashable, V], keys: Sequence[Hashable], sizes: Sequence[int],
            compute: Callable[[list[int]], Sequence[V]], bound: int) -> list[V]:
    """The answers for ``keys`` (their texts ``sizes`` long): those ``kept`` holds,
    answered as then, the others ``compute``d at once (given their places in ``keys``);
    then each whose text is up to ``CACHED_CHARS`` long kept, at most ``bound``."""
    out: list[V] = [kept.pop(key, UNKEPT) for key in keys]  # put back last: most recent
    new = [at for at, answer in enumerate(out) if answer is UNKEPT]
    if new:
        for at, answer in zip(new, compute(new), strict=True):
            out[at] = answer
    for key, size, answer in zip(keys, sizes, out, strict=True):
        if size <= CACHED_CHARS:
            if len(kept) >= bound:
                del kept[next(iter(kept))]
            kept[key] = answer
    return out


def touched(kept: dict[K, V], key: K) -> V:
    """``key``'s answer if ``kept`` holds it, put back last (the most recently used), as
    ``answers`` touches a kept one; else ``UNKEPT``, and nothing is changed.

    Why: a batch of one (the server's ordinary load) asked ``answers`` for one key built
    three lists, a closure and a loop for it; a hit is this look-up's answer and order
    exactly (a key was kept only if its text was short enough, and putting it back after
    its pop never passes the bound), so a caller tries it first and calls ``answers``
    only on a miss."""
    answer = kept.pop(key, UNKEPT)
    if answer is not UNKEPT:
        kept[key] = answer
    return answer
