"""Red team, session 15: a pitch with a mark between the letters of every word.

Session 13 joined words spaced out with blanks ("F R E E  e n t r y") and left open those
parted by a mark ("f.r.e.e", "f-r-e-e"): the ``spaced`` cue fires on them, but the words
the model weighs are gone. Measured on main, the pitch below, which a days-old account's
first message to a stranger is blocked for (CONTENT_SPAM 12), with a full stop between
its letters scores 0.6 and is delivered; with a hyphen 1.3, an asterisk 1.0, a sparkle
emoji 2.1: all delivered.

The rule: a full stop between single letters is how initials and abbreviations are
written ("U.S.A.", "a.k.a.", Thai "ธ.ค.": none in the six corpora of ``model/datasets``
has five letters), so with it a word of five letters or more (``text.SPACED_LETTERS``, as
for blanks) is the word; no writer parts a word's letters with another mark, so with one a
word of three or more is. A word so written is a whole word, so no host, path or name is
joined.
"""

from __future__ import annotations

import re

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.text import view

PITCH = "FREE entry! WIN a cash prize of $5000, text WIN to 80086 now, claim your prize today"


def parted(text: str, mark: str) -> str:
    """The mark between the letters of every word of three letters or more ("F.R.E.E
    e.n.t.r.y! W.I.N a c.a.s.h ...")."""
    return re.sub(r"[^\W\d_]{3,}", lambda word: mark.join(word.group()), text)


MARKS = ["-", "*", "_", "\u2728", "--", "\U0001f447\U0001f3fc", "|"]


@pytest.mark.parametrize("mark", MARKS)
def test_words_parted_letter_by_letter_read_as_the_words(mark: str) -> None:
    written = view(parted(PITCH, mark))
    assert written.skeleton == view(PITCH).skeleton, written.skeleton
    assert written.spaced


def test_long_words_parted_by_full_stops_read_as_the_words() -> None:
    written = view(parted(PITCH, "."))
    assert written.text == ("F.R.E.E entry! W.I.N a c.a.s.h prize of $5000, t.e.x.t W.I.N "
                            "to 80086 n.o.w, claim y.o.u.r prize today")
    assert written.spaced


def first_messages(texts: list[str]) -> list[str]:
    """A days-old account's first message to a stranger, for each text."""
    engine = open_engine(config())
    cfg = engine.config
    actions = []
    for i, text in enumerate(texts):
        engine.process(event(cfg, type="account", id=f"a{i}", ts=T0, account=f"bot{i}",
                             created=T0 - 600))
        actions.append(engine.process(message(cfg, f"m{i}", f"bot{i}", [f"stranger{i}"],
                                              text, T0 + i)).action)
    return actions


@pytest.mark.parametrize("mark", MARKS)
def test_a_pitch_parted_letter_by_letter_is_judged_as_the_pitch(mark: str) -> None:
    assert first_messages([PITCH, parted(PITCH, mark)]) == ["block", "block"]


def test_a_pitch_parted_by_full_stops_is_not_delivered() -> None:
    """Its words of four letters and fewer ("F.R.E.E", "c.a.s.h") may be initials and stay
    as written: the rest of the pitch warns (CONTENT_SPAM 5.9; 3.9 and delivered on main)."""
    assert first_messages([PITCH, parted(PITCH, ".")]) == ["block", "warn"]


@pytest.mark.parametrize(("text", "domains"), [
    ("the U.S.A. and the U.K., e.g. in May, R.S.V.P.", ()),  # initials: four letters or fewer
    ("ธนาคาร ธ.ก.ส. ถึง 31 ธ.ค.นี้", ()),  # Thai abbreviations
    ("a-b and c*d", ()),  # two letters
    ("G.W.R a.k.a. S.I.M. points", ()),
    ("version 1.2.3.4.5 is out", ()),  # digits are no letters
    ("mirror at a.b.c.d.e.com/files", ("e.com",)),  # a host is no word
    ("see https://x.com/a-b-c-d-e/f-g-h-i-j", ("x.com",)),  # nor a path
    ("ask @a-b-c-d-e about it", ()),  # nor a name
    ("ok :-) :-) :-)", ()),
])
def test_initials_hosts_and_paths_stay_as_written(text: str, domains: tuple[str, ...]) -> None:
    seen = view(text)
    assert (seen.text, seen.domains, seen.spaced) == (text, domains, False)


def test_a_word_spelled_out_is_the_word() -> None:
    assert view("R-E-S-P-E-C-T, find out what it means").text == "RESPECT, find out what it means"
