"""A new text's features for fewer hashes (session 48, ``feat48``), every bucket the same.

The cuts: a batch's teachable words' CRC-32s on seed 7, and their pairs', derived from the
words' CRCs on seed 0 (``features._seeded``: CRC-32 is affine over GF(2)), which the hashed
words of a text of ASCII already have (``_batch_keys``); and the shape and cue tokens'
CRCs looked up (``features._TOKEN_CRCS``). Each is held here against ``zlib.crc32`` of the
strings base hashed, over hostile words (every length about the tables' end, random
bytes, a 70,000-character one), and by the count of ``zlib.crc32`` calls a batch makes.
"""

from __future__ import annotations

import random
import zlib
from itertools import pairwise

import numpy as np
import pytest

from spimguard.model import features
from spimguard.text import _view

_RNG = random.Random(48)


def _words(lengths: list[int]) -> list[bytes]:
    return [bytes(_RNG.randrange(256) for _ in range(n)) for n in lengths]


@pytest.mark.parametrize("lengths", [
    [], [0], [5], [0, 0, 0], list(range(0, 140)), list(range(140, 0, -1)),
    [63, 64, 65, 3, 64, 1],  # about the tables' end (``features._ZEROS``, 64 bytes)
    [70000, 2, 70000, 70000, 0], [1] * 300])
def test_seeded_crcs_are_zlibs(lengths: list[int]) -> None:
    """``_seeded``: each word's CRC-32 on seed 7 and each pair's ("a b") from their CRCs on
    seed 0, as ``zlib.crc32`` of the bytes: lengths on both sides of the tables' end."""
    words = _words(lengths)
    crcs, pairs = features._seeded(features._word_crcs(words),
                                   np.array(lengths, dtype=np.int64), words)
    assert crcs.dtype == pairs.dtype == np.uint32
    assert crcs.tolist() == [zlib.crc32(w, 7) for w in words]
    assert pairs.tolist() == [zlib.crc32(a + b" " + b, 7) for a, b in pairwise(words)]


def test_random_words_seeded_crcs_are_zlibs() -> None:
    """``_seeded`` of 2,000 random batches of random lengths (most short, some long)."""
    for _ in range(2000):
        lengths = [_RNG.choice([_RNG.randrange(12), _RNG.randrange(200)])
                   for _ in range(_RNG.randrange(12))]
        words = _words(lengths)
        crcs, pairs = features._seeded(features._word_crcs(words),
                                       np.array(lengths, dtype=np.int64), words)
        assert crcs.tolist() == [zlib.crc32(w, 7) for w in words]
        assert pairs.tolist() == [zlib.crc32(a + b" " + b, 7) for a, b in pairwise(words)]


def test_the_tokens_crcs_are_their_strings() -> None:
    """``_TOKEN_CRCS``: every shape and cue token's CRC-32 on seed 4 is its UTF-8's; a token
    outside them (a domain's) is hashed the same and not kept."""
    texts = ["FREE entry!! Text WIN to 80086 to claim your £1000 prize now, USD 5",
             "Набираю в команду, доход от 5000 ₽ в день, пишите в лс @manager_job",
             "F R E E  r i n g t o n e s now " * 9, "x" * 400]
    tokens = {token for text in texts for token in
              features.shape_tokens(_view(text)) + features.cues(_view(text))}
    assert tokens <= set(features._TOKEN_CRCS)
    for token in features._TOKEN_CRCS:
        assert features._TOKEN_CRCS[token] == zlib.crc32(token.encode(), 4)
    kept = len(features._TOKEN_CRCS)
    for token in ("dom:tones-shop.com", "dom:\ud800x.com", "dom:пример.рф"):
        assert features._TOKEN_CRCS[token] == zlib.crc32(
            token.encode("utf-8", "surrogatepass"), 4)
    assert len(features._TOKEN_CRCS) == kept


def _calls(monkeypatch: pytest.MonkeyPatch, messages: list[tuple[object, tuple[str, ...]]]
           ) -> int:
    """``zlib.crc32``'s calls while ``_hashed_parts`` hashes ``messages`` together."""
    counted = [0]
    crc32 = zlib.crc32

    def counting(data: bytes, seed: int = 0) -> int:
        counted[0] += 1
        return crc32(data, seed)

    monkeypatch.setattr(zlib, "crc32", counting)
    features._hashed_parts(messages, features.BITS)  # type: ignore[arg-type]
    monkeypatch.setattr(zlib, "crc32", crc32)
    return counted[0]


def test_a_batch_of_ascii_hashes_each_word_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of texts of ASCII (no domain, no name greeted) calls ``zlib.crc32`` once a
    word, and once a stem (whose string is made): not on seed 7 again for its teachable
    words, twice more for their pairs, nor for its shape and cue tokens (base: ~4 a word and
    one a token)."""
    texts = [f"FREE ringtones {n} claim your prize now, call 0800 123 4567 today friend"
             for n in range(40)] + ["", "hi", "ok see you at 5", "a " * 30]
    views = [_view(text) for text in texts]
    words = sum(len(features._words(view.prose_skeleton)[1]) for view in views)
    stems = sum(len(w) > features._STEM_LETTERS for view in views
                for w in features._words(view.prose_skeleton)[0])
    assert _calls(monkeypatch, [(view, ()) for view in views]) == words + stems


def test_a_mixed_batch_hashes_a_word_at_most_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch with texts not of ASCII, names greeted and domains: each word of the skeleton
    once, each teachable word not among them once more, a stem and a domain once; the
    parts each message's alone (``_own_parts``, by the strings)."""
    texts = ["Набираю в команду, доход от 5000 ₽ в день, пишите", "Hello Sam, FREE tones",
             "空投 airdrop: claim 500 USDT now ✅🚀", "visit tones-shop.com now friend",
             "café naïve CAFÉ доходом дохода Нaбuрaю"] * 3
    messages = [(view, ("Sam",) if "Sam" in view.prose_skeleton else ())
                for view in map(_view, texts)]
    bound = sum(2 * len(features._words(view.prose_skeleton)[1]) + len(view.domains)
                + len(view.prose_skeleton.split()) for view, _ in messages)
    assert _calls(monkeypatch, messages) <= bound
    together = features._hashed_parts(messages, features.BITS)
    for message, (found, teachable) in zip(messages, together, strict=True):
        alone = features._hashed_parts([message], features.BITS)[0]
        assert (found.tobytes(), teachable.tobytes()) == (alone[0].tobytes(),
                                                          alone[1].tobytes())
