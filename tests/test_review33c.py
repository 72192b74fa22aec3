"""Red team, session 33: review of ``unproven33`` and ``respin33`` from the spammer's seat
(``review33c``).

respin33 left fillers out of bulk's word pairs; a filler list is a list. Measured on main
(8541667, with respin33) and on 08e8778 (before it), 200 copies of the session-32 pitch,
each with its own pad after about a quarter of its words (``_padded``), the engine's
cluster (decayed copies of 200) on seeds 1-5:

- marks with no letter or digit ("...", "--", "_", ".-"): 92-112 ("...", "--", "*", "~"),
  82-97 ("-", ".", "-.", ".-"), 17-24 ("_", "__"); a word said twice ("so so"): 152-160.
  Emoji, "*", "~" and "!!" were never words (``_WORD``). Now none of them is a word
  (``bulk._words``): 182 of 200 (all, decayed) on seeds 1-5.
- words no list names (open, strict xfail below): other hedges ("like", "kinda", "tbh"),
  random letters, numbers, the recipient's own name.

unproven33 counts an unproven session's messages *with a site*, and BULK_UNPROVEN_SESSIONS
judges only those: a seller that sends its words without the site and then the site alone
(too few words to cluster) was never judged by it (closed in session 34, ``split34``).
"""

from __future__ import annotations

import random
import string

import pytest

from spimguard.detectors.bulk import BulkSettings, text_keys
from spimguard.text import view
from test_attack_session30 import reached
from test_attack_session32 import _one_seller_many_victims
from test_attack_session32_content import NAMES, _padded, _plain
from test_respin33 import _campaign


def _keys(text: str) -> tuple[str, ...] | None:
    return text_keys(view(text), (), BulkSettings())


def test_marks_with_no_letter_or_digit_are_no_words() -> None:
    plain = "we meet at the station after work, bring the tickets please"
    marked = "we meet ... at the -- station _ after work, .- bring the __ tickets please"
    assert _keys(marked) == _keys(plain)
    assert _keys("... -- _ ok") is None  # as short as "ok"


def test_a_word_said_twice_in_a_row_is_said_once() -> None:
    assert _keys("we meet at the the station after after work") == _keys(
        "we meet at the station after work")
    assert _keys("the station we meet at the station") != _keys("the station we meet at")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_padded_with_marks_is_one_campaign(seed: int) -> None:
    """Main: 18, 24, 22 of 200 (28, 29 on seeds 4-5); 182 (every copy, decayed) here."""
    assert _campaign(_padded(seed, ["...", "--", "_", ".-"])) >= 150


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_with_words_said_twice_is_one_campaign(seed: int) -> None:
    """Each copy says a quarter of its words twice: main 160, 154, 155 of 200 (under 200
    copies on one band key: 161, 152, 154); every copy here."""
    pick = random.Random(seed)
    copies = [" ".join(w for word in _plain(name).split()
                       for w in ((word, word) if pick.random() < 0.25 else (word,)))
              for name in NAMES]
    assert _campaign(copies) >= 180


def _random_letters(seed: int) -> list[str]:
    pick = random.Random(seed)
    return ["".join(pick.choice(string.ascii_lowercase) for _ in range(pick.randint(2, 3)))
            for _ in range(400)]


@pytest.mark.xfail(strict=True, reason=(
    "padding with words no list names: the engine's cluster of 200 copies (seeds 1-5) "
    "holds 19-32 with other hedges ('like', 'kinda', 'pretty', 'well', 'oh', 'lol', 'tbh', "
    "'legit', 'fr', 'ngl'), 17-23 with random 2-3 letters, 28-37 with numbers, 37-45 with "
    "the recipient's own name; the same on 08e8778 and main 8541667. Session 34 "
    "(clusters34: one summary a cluster, under its home key; padding34: masks no words) "
    "counts 59.7, 37.6, 39.3, 39.0, 56.1 with the hedges, 33.8, 26.7, 39.7, 36.7, 37.8 "
    "with random letters (seed n's letters for seed n; main 907bd37); numbers and names "
    "182 (closed: test_padding34, test_clusters34). A MinHash of single "
    "words instead of pairs (measured, not shipped) lifts every class to 200 on one band key "
    "but random letters (90-112) and joins more distinct ham: English SMS 739 pairs for "
    "439, Thai 2,023 for 1,131, X posts 62 for 24; order no longer counts. No list of "
    "words closes an open class; telling a pad from the pitch needs the copies compared"))
def test_a_pitch_padded_with_words_no_list_names_is_one_campaign() -> None:
    assert _campaign(_padded(1, ["like", "kinda", "pretty", "well", "oh", "lol", "tbh",
                                 "legit", "fr", "ngl"])) >= 150


@pytest.mark.xfail(strict=True, reason=(
    "random 2-3 letters: 33.8 of 200 (seed 1; 26.7, 39.7 on seeds 2-3; 22, 17, 19 before "
    "session 34), see above"))
def test_a_pitch_padded_with_random_letters_is_one_campaign() -> None:
    assert _campaign(_padded(1, _random_letters(1))) >= 150


def test_a_pitch_split_from_its_link_is_the_same_hand() -> None:
    """The seller splits its pitch: the words without the link, then the link alone (too
    few words to cluster). 42 of 60 (20 in one message) on 08e8778 and main 8541667;
    session 34 (``split34``, ``detectors/turns.py``) joins the site to the words the
    session gave the recipient just before: 20 of 60 (``test_split34`` has variants)."""
    _, *later = _one_seller_many_victims(split=True)
    assert all(reached(verdicts) <= 3 for verdicts in later)
