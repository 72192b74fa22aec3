"""Red team, session 34: a pitch padded with what personalises a copy is still one campaign
(``padding34``).

``text.masked`` reduces a number to "#", a mention to "@" and a recipient's name to
"<name>": what differs per copy, its value gone. Those masks were words of bulk's word
pairs, so a spammer who put a number or the recipient's own name after about a quarter of
a pitch's words broke two pairs a pad, as fillers did: the engine's cluster of 200 such
copies held 28-37 (numbers) and 37-45 (names) on main. A mask says only that something
personal stood there, which is all a pad of them says, so masks are no words now
(``bulk._MASKS``) and the pitch's words pair across them: 182 of 200 (every copy,
decayed). Tuned on seeds 1-3; seeds 4-5 reported in docs/red-team-log.md.

Left open (strict xfail, numbers in the reason): pads that are words, short or long
(articles, hedges, random letters), which no per-text rule tells from the pitch's own.
"""

from __future__ import annotations

import itertools
import random
import string

import pytest

from spimguard.detectors.bulk import BulkSettings, text_keys
from spimguard.text import names_of, view
from test_attack_session32_content import NAMES, _padded, _plain
from test_respin33 import _campaign


def _keys(text: str, names: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    return text_keys(view(text), names_of(names), BulkSettings())


def test_a_number_a_mention_or_a_name_padded_in_is_no_word() -> None:
    plain = "we meet at the station after work, bring the tickets please"
    assert _keys("we meet 12 at the station @dan after work, bring 7 the tickets please"
                 ) == _keys(plain)
    assert _keys("we meet at the station lena after work, bring lena the tickets please",
                 ("lena",)) == _keys(plain)


def test_masks_count_as_no_words_toward_min_words() -> None:
    """"call 5 @dan now" is as short as "call now": too few words to count copies of."""
    assert _keys("call 5 @dan now 12") is None
    assert _keys("call 5 me now 12 please") is not None


def test_a_pitch_keeps_its_words_around_a_figure() -> None:
    """The words on either side of a mask pair across it: a pitch with its figure and the
    same pitch without one are one text, and one with other words around it is not."""
    assert _keys("I made 4000 dollars this week trading crypto") == _keys(
        "I made dollars this week trading crypto")
    assert _keys("I made 4000 dollars this week trading crypto") != _keys(
        "I lost 4000 dollars this week trading crypto")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_padded_with_numbers_is_one_campaign(seed: int) -> None:
    """Main: 36.6, 32.9, 33.7 of 200 (seeds 1-3; 30.7, 28.5 on 4-5); 182 (every copy,
    decayed) here."""
    assert _campaign(_padded(seed, [str(n) for n in range(1, 100)])) >= 150


def _named(seed: int) -> list[str]:
    """Each copy with its recipient's own name after about a quarter of its words."""
    pick = random.Random(seed)
    return [" ".join(itertools.chain.from_iterable(
        (word, name) if pick.random() < 0.25 else (word,) for word in _plain(name).split()))
        for name in NAMES]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_padded_with_its_recipients_name_is_one_campaign(seed: int) -> None:
    """Main: 37.9, 37.3, 45.4 of 200 (40.5, 38.3); 182 here."""
    assert _campaign(_named(seed)) >= 150


def _letters(seed: int, shortest: int, longest: int) -> list[str]:
    pick = random.Random(seed)
    return ["".join(pick.choice(string.ascii_lowercase)
                    for _ in range(pick.randint(shortest, longest))) for _ in range(400)]


@pytest.mark.xfail(strict=True, reason=(
    "padding with words: a per-text fingerprint cannot tell a pad from the pitch's own words. "
    "The engine's cluster of 200 copies, random 4-5 letters after a quarter of the words: "
    "16.6 (seed 1; 16.6-22.8 on seeds 2-5; 18.1-27.2 on main). Measured and not shipped "
    "(docs/red-team-log.md, padding34): pairing only "
    "words of 4+ characters (numbers, names, articles, random 2-3 letters then all 200 on one "
    "band key, and distinct English SMS ham joined 298 pairs for 439) drops random 4-5 "
    "letters to 2-8 on one key (from 14-28) and spun copies to 20-25 (from 35-52): a "
    "spammer who reads the code pads with longer tokens and does better than today"))
def test_a_pitch_padded_with_random_words_is_one_campaign() -> None:
    assert _campaign(_padded(1, _letters(1, 4, 5))) >= 150
