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

from spimguard.model import cues as cue_module

_RNG = random.Random(49)


def _ascii_phrases() -> list[str]:
    return [phrase for phrase, _ in cue_module._tables().ascii_phrases]


def _guard(text: str) -> bool:
    """The guard ``cues`` takes for a text of ASCII."""
    tables = cue_module._tables()
    return bool(tables.spaced_phrase.search(text)
                or any(phrase in text for phrase in tables.unspaced))


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


def test_the_blank_anchored_guard_finds_exactly_the_phrases() -> None:
    """The guard is true on a text of ASCII exactly where one of its phrases is in it: it
    misses none (a miss would lose a cue) and lets through no text that holds none (the
    phrases' ``in`` after it then costs for nothing)."""
    phrases = _ascii_phrases()
    assert len(phrases) > 20 and any(" " not in p for p in phrases)
    for text in TEXTS:
        assert _guard(text) == any(phrase in text for phrase in phrases), text


def test_every_spaced_phrase_is_searched_from_one_literal_blank() -> None:
    """The pattern begins with the blank (what lets sre skip to each in a tight loop) and
    each phrase with a blank is found by it alone, at a text's start, end and middle;
    the phrases without one are the ``in`` tests'."""
    tables = cue_module._tables()
    assert tables.spaced_phrase.pattern.startswith(" (?:")
    spaced = [p for p in _ascii_phrases() if " " in p]
    assert sorted(spaced + list(tables.unspaced)) == sorted(_ascii_phrases())
    for phrase in spaced:
        for text in (phrase, f"x{phrase}", f"{phrase}x", f"ab {phrase} cd"):
            assert tables.spaced_phrase.search(text), (phrase, text)
