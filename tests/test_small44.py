"""A new text's content features in small batches (session 44, ``small44``): a batch of up
to ``features._ALONE`` messages is hashed message by message (``_own_parts``), a larger
one all at once, and either way every message gets the very integers it got before; the
character n-grams' numpy hashes are Horner's rule's in Python integers."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from spimguard.model import features
from spimguard.text import _view
from test_features44 import EDGES


def _messages() -> list[tuple[object, tuple[str, ...]]]:
    """(view, greeted names) of ``EDGES``, ``text_view``'s corpus and seeded mixes of every
    script, a fifth greeting one of their own words."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
        import text_view
    rng = random.Random(4444)
    pieces = ("a", "Free", "ſ", "я", "доход", " ", "  ", ".", "$", "😀", "🅕", "ß", "İ",
              "\u200b", "空投", "เครดิต", "\ud800", "0812-3456-7890", "bit.ly/x", "@job")
    mixes = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
             for _ in range(800)]
    out = []
    for text in (*EDGES, *text_view.corpus(700), *mixes):
        view = _view(text)
        words = text.split()
        names = (rng.choice(words),) if words and rng.random() < 0.2 else ()
        out.append((view, tuple(n for n in names if n in view.prose_skeleton)))
    return out


MESSAGES = _messages()


def _hashed(size: int, alone: int) -> list[tuple[bytes, bytes]]:
    """Every message's parts hashed in batches of ``size``, ``_ALONE`` set to ``alone``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(features, "_ALONE", alone)
        out = []
        for start in range(0, len(MESSAGES), size):
            for found, teachable in features._hashed_parts(MESSAGES[start:start + size],
                                                           features.BITS):
                assert found.dtype == teachable.dtype == np.uint32
                assert not found.flags.writeable and not teachable.flags.writeable
                out.append((found.tobytes(), teachable.tobytes()))
    return out


def test_a_message_hashed_alone_gets_what_a_batch_gives_it_at_every_size() -> None:
    """Message by message (``_own_parts``) and all at once (``_split_parts``), in batches of
    every size up to past the crossover and of 500: the same buckets, byte for byte, and
    ``buckets`` is the first set (the bundled model's margins, and so every verdict, hang
    on these integers)."""
    together = _hashed(500, 0)
    assert _hashed(1, 1) == together
    for size in (2, 3, 5, 8, 9, 13):
        assert _hashed(size, size) == together, size  # alone
        assert _hashed(size, 1) == together, size  # together
    assert [features.buckets(view).tobytes() for view, _ in MESSAGES[:400]] == [
        found for found, _ in together[:400]]


def test_batches_up_to_the_crossover_are_hashed_message_by_message(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The size alone chooses the path: up to ``_ALONE`` messages each by itself, more
    together (where the batch's fixed cost, shared, is the cheaper)."""
    together: list[int] = []
    alone: list[int] = []
    split, own = features._split_parts, features._own_parts
    monkeypatch.setattr(features, "_split_parts",
                        lambda views, *rest: together.append(len(views)) or split(views, *rest))
    monkeypatch.setattr(features, "_own_parts",
                        lambda *given: alone.append(1) or own(*given))
    crossover = features._ALONE
    assert 1 <= crossover <= 16  # the server's group commit: batches of one to a few
    for size in (1, crossover, crossover + 1, 500):
        together.clear()
        alone.clear()
        features._hashed_parts(MESSAGES[:size], features.BITS)
        assert (together, len(alone)) == (([], size) if size <= crossover else ([size], 0))


def test_the_gram_hashes_are_horners_rule_in_python_integers() -> None:
    """``_gram_hashes`` (numpy, a row a length, in place) against Horner's rule in Python
    integers, for code points at their extremes (0, surrogates, U+10FFFF) and at random."""
    rng = np.random.default_rng(44)
    points = np.concatenate((np.array([0, 1, 0xD800, 0xDFFF, 0x10FFFF, 0x10FFFF, 32, 0],
                                      dtype=np.uint32),
                             rng.integers(0, 0x110000, 3000).astype(np.uint32)))
    raw = points.tobytes()
    rows = len(points) - 4
    hashed = features._gram_hashes(features._windows(raw, rows),
                                   np.empty((5, rows), dtype=np.uint32))
    base, seeds, mask = int(features._P), features._SEEDS.tolist(), 2**32 - 1
    values = points.tolist()
    expected = []
    for row in range(rows):
        rolling = values[row]
        for n in range(4):
            rolling = (rolling * base + values[row + n + 1]) & mask
            expected.append(rolling ^ seeds[n])
    assert hashed.T.ravel().tolist() == expected
