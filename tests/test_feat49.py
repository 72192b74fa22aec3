"""A new text's features for less, every bucket the same (session 49, ``feat49``).

The cut: a text of ASCII's cue phrases looked for from their first blank
(``cues._from_blank``: sre searches a pattern that begins with one literal character by a
tight loop to each, where the tree of first letters was tried at ~58 % of a chat line's
characters), the few phrases without a blank by ``in``. Held here against the phrases'
own ``in`` over hostile texts built of the phrases' pieces: phrases overlapping, cut,
doubled blanks, at either end, the blank's neighbours in every position.
"""

from __future__ import annotations

import random
import re

import msgspec
import pytest

from spimguard.model import cues as cue_module
from spimguard.model import features
from spimguard.text import _view

_RNG = random.Random(49)


def _ascii_phrases() -> list[str]:
    return [phrase for phrase, _ in cue_module._tables().ascii_phrases]


def _spaced() -> list[str]:
    return [phrase for phrase in _ascii_phrases() if " " in phrase]


def _hostile() -> list[str]:
    """Texts of the phrases' pieces: each phrase, cut at each place, glued to others."""
    phrases = _ascii_phrases()
    pieces = [p[:cut] for p in phrases for cut in range(len(p) + 1)]
    pieces += [p[cut:] for p in phrases for cut in range(len(p) + 1)]
    pieces += [" ", "  ", "x", "-", ".", "/", "$", "t.me", "part", "time", "ME", "Act Now"]
    texts = [*phrases, *pieces, "", " ", "a" * 3000, " " * 3000, "act  now", "act\tnow",
             "t.me", "t.me\n", "part- time", "sign up" * 500, "xact nowx", "per day" + " " * 9]
    for _ in range(20000):
        texts.append("".join(_RNG.choice(pieces) for _ in range(_RNG.randint(1, 6))))
    return list(dict.fromkeys(texts))


TEXTS = _hostile()


def test_the_blank_anchored_scan_finds_exactly_the_spaced_phrases() -> None:
    """The scan is true on a text exactly where one of the phrases with a blank is in it:
    it misses none (a miss would lose a cue) and lets through no text that holds none
    (the phrases' ``in`` after it would cost for nothing)."""
    spaced, scan = _spaced(), cue_module._tables().spaced_phrase
    assert len(spaced) > 20
    for text in TEXTS:
        assert bool(scan.search(text)) == any(phrase in text for phrase in spaced), text


def test_every_ascii_phrase_is_the_scans_or_looked_for_alone() -> None:
    """The pattern begins with the blank (what lets sre skip to each in a tight loop), each
    phrase with a blank is found by it at a text's start, end and middle, and the phrases
    without one are those ``cues`` looks for by ``in`` in every text of ASCII."""
    tables = cue_module._tables()
    assert tables.spaced_phrase.pattern.startswith(" (?:")
    assert sorted(_spaced() + [phrase for phrase, _ in tables.unspaced]) == sorted(
        _ascii_phrases())
    assert all(" " not in phrase for phrase, _ in tables.unspaced)
    for phrase in _spaced():
        for text in (phrase, f"x{phrase}", f"{phrase}x", f"ab {phrase} cd"):
            assert tables.spaced_phrase.search(text), (phrase, text)


def test_cues_are_those_of_every_phrase_looked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cues`` of the hostile texts (of ASCII, and some not) are those it gives when the
    scan lets every text through to each phrase's ``in``."""
    texts = [*TEXTS[::40], "act now ₽", "sign up доход", "t.me/x $5", "part-time job"]
    texts += [f"{text} ÿ" for text in TEXTS[::120]]
    guarded = [cue_module.cues(_view(text)) for text in texts]
    tables = cue_module._tables()
    monkeypatch.setattr(cue_module, "_tables", lambda: tables._replace(
        spaced_phrase=re.compile(""), any_phrase=re.compile("")))
    assert [cue_module.cues(_view(text)) for text in texts] == guarded
    assert sum("cue:act" in tokens for tokens in guarded) > 10


def test_every_listed_word_is_met_by_the_listed_set() -> None:
    """``cues`` meets a text's words with the listed words' set (``_Tables.listed``): the
    set is the listed words, and each word gives its cue alone, among others, twice, and
    where the folded prose differs from the skeleton (capitals, a mixed word)."""
    tables = cue_module._tables()
    assert tables.listed == frozenset(tables.words)
    for word, name in tables.words.items():
        for text in (word, f"ok {word} ok {word}", f"{word.upper()} NOW", f"ÿ {word} дa"):
            assert f"cue:{name}" in cue_module.cues(_view(text)), (word, text)


class _CountedFolds(str):
    """A prose that counts its ``casefold`` calls."""

    folds = 0

    def casefold(self) -> str:
        _CountedFolds.folds += 1
        return str(self).casefold()


@pytest.mark.parametrize("size", [1, 3, 40])
def test_a_new_text_is_casefolded_once(size: int) -> None:
    """``_hashed_parts`` folds each prose once, for its cues and its n-grams' stream (base
    folded it in each), and the parts are those of the prose folded by each as before."""
    texts = [f"Hello ÿ {n} Sign UP now ΣΑΣ straße {size}" if n % 2 else f"ACT NOW {n} {size} x"
             for n in range(size)]
    plain = [_view(text) for text in texts]
    counted = [msgspec.structs.replace(view, prose=_CountedFolds(view.prose)) for view in plain]
    _CountedFolds.folds = 0
    found = features._hashed_parts([(view, ()) for view in counted], features.BITS)
    assert _CountedFolds.folds == size
    for (mine, teach), view in zip(found, plain, strict=True):
        own_mine, own_teach = features._hashed_parts([(view, ())], features.BITS)[0]
        assert mine.tolist() == own_mine.tolist() and teach.tolist() == own_teach.tolist()
    assert features.buckets(plain[0]).tolist() == found[0][0].tolist()
