"""A new text's features for less, every bucket the same (session 47, ``feat47``).

The cuts: a batch's teachable words hashed in numpy, each pair's CRC-32 chained from its
first word's (``features._teachable_crcs``), cues' folded words of an ASCII text by
``translate`` (``cues.ascii_words``), and the spaced-letters scan skipped where a text of
ASCII has fewer one-letter words than any match holds (``cues._SPACED_SINGLES``). Each is
held here against the form it replaced, over hostile texts: one word 5,000 times, tens of
thousands of distinct words, marks, mixed scripts, lone surrogates.
"""

from __future__ import annotations

import random
import zlib
from itertools import chain, pairwise

import numpy as np
import pytest

from spimguard.model import cues as cue_module
from spimguard.model import features
from spimguard.text import _view

_RNG = random.Random(47)
_HOSTILE = [
    "", " ", "a", "abcd", "abcdef", "a b c d e", "a_b_c_d_e", "a b c d_e", "a.b.c.d.e",
    "x y z", "x y z w", "1 2 3 4 5", "I got a b", "F R E E  m o n e y", "F-R-E-E c-a-s-h",
    "w i n  a  p r i z e", "_ _ _ _ _", "a  b  c  d  e", "a*b*c*d*e", "ab c d e f",
    "word " * 5000, "ringtones " * 5000,
    " ".join(f"w{n:05d}x" for n in range(20000)),  # distinct words, most of them long
    "e\u0301\u0302\u0303" * 40, "café naïve CAFÉ доходом дохода Нaбuрaю", "İı ſ K ß ﬁ ΣΑΣ",
    "\ud800lone\udfff surrogates here", "a pair \ud83d\ude00 of them", "空投 airdrop 请看很好",
    "เครดิตฟรี 100 บาท สมัครเลย", "مرحبا بك في المجموعة", "ＦＵＬＬＷＩＤＴＨ ＦＲＥＥ",
    "Hello Sam, FREE ringtones at tones-shop dot com", "lol that's exactly what I said",
    "\u202eoverride\u202c and \u2067isolate\u2069", "tab\there\nnewline\r\x0b\x0c",
]
_POOL = "abcXYZ19_ .*-@$é\u0301дΣ😀\u200b"


def _texts() -> list[str]:
    """The hostile texts and seeded mixes of ``_POOL``'s characters and their words."""
    words = [w for text in _HOSTILE if len(text) < 300 for w in text.split()]
    mixes = ["".join(_RNG.choice(_POOL) for _ in range(_RNG.randint(1, 40))) for _ in range(400)]
    mixes += [" ".join(_RNG.choice(words) for _ in range(_RNG.randint(1, 15)))
              for _ in range(300)]
    return list(dict.fromkeys(_HOSTILE + mixes))


TEXTS = _texts()


def _reference_crcs(words: list[str]) -> list[int]:
    """The teachable words' CRCs as base made them: each string, then its UTF-8's CRC."""
    return [zlib.crc32(word.encode("utf-8", "surrogatepass"), 7)
            for word in features._teachable_words(words)]


@pytest.mark.parametrize("size", [1, 2, 7, 500])
def test_a_batchs_teachable_crcs_are_each_messages_words_crcs(size: int) -> None:
    """``_teachable_crcs`` of a batch: each message's CRCs of its own teachable strings
    (none of a pair of two messages' words), as many of each, for every text."""
    lists = [features._ANY_WORD.findall(_view(text).prose_skeleton) for text in TEXTS]
    lists += [[], ["abcd"], [], ["ab", "cd"], ["abcde"], ["x"]]  # empty messages between
    for start in range(0, len(lists), size):
        batch = lists[start:start + size]
        flat = [*chain.from_iterable(batch)]
        crcs, owners = features._teachable_crcs(
            flat, [w.encode("utf-8", "surrogatepass") for w in flat], list(map(len, batch)))
        assert crcs.dtype == np.uint32 and len(crcs) == len(owners)
        for at, words in enumerate(batch):
            assert sorted(crcs[owners == at].tolist()) == sorted(_reference_crcs(words))


def test_a_pairs_crc_chains_from_its_first_words() -> None:
    """CRC-32 chains: "a b"'s CRC is b's begun from " "'s begun from a's, so a pair's
    taught CRC is its string's, for words of random code points (surrogates too) of every
    length up to 300 and a few long ones."""
    for length in [*range(1, 301), 4096, 70000]:
        a = "".join(chr(_RNG.randrange(0x21, 0x2FFFF)) for _ in range(length))
        b = "".join(chr(_RNG.randrange(0x21, 0x2FFFF)) for _ in range(_RNG.randrange(1, 300)))
        words = [a, b]
        crcs, _ = features._teachable_crcs(
            words, [w.encode("utf-8", "surrogatepass") for w in words], [2])
        assert sorted(crcs.tolist()) == sorted(_reference_crcs(words)), length


def test_an_ascii_texts_words_are_the_patterns() -> None:
    """``cues.ascii_words``: ``\\w+``'s words of any text of ASCII (all 128 characters)."""
    texts = ["".join(chr(_RNG.randrange(128)) for _ in range(_RNG.randint(0, 60)))
             for _ in range(3000)]
    for text in [*texts, "", "__", "a-b_c", "x" * 5000]:
        assert cue_module.ascii_words(text) == cue_module._WORD.findall(text)


def test_a_spaced_match_holds_three_one_letter_words() -> None:
    """``_SPACED_SINGLES``: every match of ``_SPACED`` in a text of ASCII holds that many
    one-letter words, on random texts of the characters its pattern turns on."""
    matched = 0
    for _ in range(20000):
        text = "".join(_RNG.choice(["a", "b", "1", "ab", "_"]) + _RNG.choice(" .*_-!")
                       for _ in range(_RNG.randint(3, 12)))
        if cue_module._SPACED.search(text):
            matched += 1
            singles = list(map(len, cue_module._WORD.findall(text))).count(1)
            assert singles >= cue_module._SPACED_SINGLES, text
    assert matched > 1000


def test_cues_are_the_unguarded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guards change no cue: each text's cues with them and without (no count of
    one-letter words asked, the folded words by the pattern)."""
    views = [_view(text) for text in TEXTS]
    guarded = [cue_module.cues(view) for view in views]
    monkeypatch.setattr(cue_module, "_SPACED_SINGLES", 0)
    monkeypatch.setattr(cue_module, "ascii_words", cue_module._WORD.findall)
    assert [cue_module.cues(view) for view in views] == guarded
    assert ["cue:spaced" in found for found in guarded].count(True) > 10


def test_a_batchs_parts_are_each_messages_alone() -> None:
    """``_hashed_parts`` of the hostile texts together (``_teachable_crcs``) and each alone
    (``_own_parts``, by the words' strings), some greeting a word of theirs as a name:
    byte for byte; the teachable buckets bounded by the words (a word, its stem and its
    two pairs at most)."""
    messages = []
    for at, text in enumerate(TEXTS):
        view = _view(text)
        words = text.split()
        greeted = (words[0],) if words and at % 5 == 0 and words[0] in view.prose_skeleton else ()
        messages.append((view, greeted))
    together = features._hashed_parts(messages, features.BITS)
    for message, (found, teachable) in zip(messages, together, strict=True):
        alone_found, alone_teachable = features._hashed_parts([message], features.BITS)[0]
        assert found.tobytes() == alone_found.tobytes(), message[0].text[:60]
        assert teachable.tobytes() == alone_teachable.tobytes(), message[0].text[:60]
        words = features._ANY_WORD.findall(message[0].prose_skeleton)
        crcs, _ = features._teachable_crcs(
            words, [w.encode("utf-8", "surrogatepass") for w in words], [len(words)])
        assert len(teachable) <= len(crcs) + 8 <= 3 * len(words) + 8


def test_pairs_of_two_messages_words_are_not_taught() -> None:
    """A batch of messages of one long word each: no pair of neighbours across them."""
    words = ["ringtones", "tonesshop", "claimnow"]
    crcs, owners = features._teachable_crcs(
        words, [w.encode() for w in words], [1, 1, 1])
    assert sorted(crcs.tolist()) == sorted(chain.from_iterable(
        _reference_crcs([w]) for w in words))
    assert sorted(owners.tolist()) == [0, 0, 1, 1, 2, 2]  # a word and its stem each
    assert not any(zlib.crc32(f"{a} {b}".encode(), 7) in crcs.tolist()
                   for a, b in pairwise(words))
