"""Red team, session 34 (``review34b``): ``split34``'s join and ``padding34``'s masks
from the spammer's seat.

``split34`` joined a session's words and the site it gives the same recipient next into
one utterance, but kept it a session's: a seller signed in twice to each victim gave the
words from one session and the link from the other, and nothing was joined (42 of 60
reached on main b9e2615, as with no join at all). The reader sees who wrote, not from
which device: the turn is the account's (``detectors/turns.py``), as ``unproven_sent``
already counts all the account's unproven sessions (``review32c``).

``padding34`` masked numbers out of the word pairs, but a figure written with its unit
is not masked: the skeleton reads "3pm", "1st", "x2" as leetspeak ("epm", "ist", "x#"), a
word, and each such pad breaks two pairs again. Closed by session 35 (``units35``) for
ordinals, clock times and "x2"; "k1" and "v1" stay open (strict xfail below, numbers).
"""

from __future__ import annotations

import pytest

from conftest import T0, config, message
from spimguard import open_engine
from test_attack_session30 import reached, suspended
from test_attack_session32_content import _padded
from test_respin33 import _campaign
from test_split34 import split_seller
from test_takeover import OFFICIAL, live_a_month


def test_the_words_from_one_session_and_the_site_from_another_are_one_pitch() -> None:
    """Words from session "seller", each link 1 s later from "seller2", both signed in to
    every victim: main b9e2615 14 reached in every victim, 42 of 60; here as with one
    session, 14 in the first (its account's own bound) and 3 in each later one, 20."""
    first, *later = split_seller(site_session="seller2")
    assert reached(first) <= 14
    assert all(reached(verdicts) <= 3 and suspended(verdicts) for verdicts in later)


def test_an_owner_sending_the_sellers_words_and_a_link_is_not_held() -> None:
    """The cost side of the account's turn: after the two-session seller, an owner on her
    own phone of a month gives a friend the seller's very words and then a link, as two
    messages: delivered (her familiar session never writes the turn, and a half is judged
    by its own session), while the seller is held as above (main b9e2615: 42 of 60)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, "dora")
    cfg = engine.config
    out = [engine.process(message(cfg, f"dora-{i}", "dora", [f"dora-friend{i}"], text,
                                  T0 + 2 * i, session="phone",
                                  client={"id": "im-android", "ip": "198.51.100.20"}))
           for i, text in enumerate(("hey Ann! I found cheap ringtones here",
                                     "http://cheap-tones0.biz/r"))]
    _, *later = split_seller(site_session="seller2")
    assert [v.action for v in out] == ["deliver", "deliver"]
    assert sum(map(reached, later)) <= 6


@pytest.mark.xfail(strict=True, reason=(
    "open: the site 3,601 s after its words (one second past ``turn_window``; all the "
    "words first, so ``test_split34``'s all-words-before-all-sites case): 14 reached in "
    "every victim, 42 of 60, here as on main b9e2615. Any window has a second past it; "
    "what closes it is the words' cluster learning the account at the site's write "
    "(``test_split34``'s open xfail), not a longer window"))
def test_the_site_just_past_the_window() -> None:
    _, *later = split_seller(gap=3_601)
    assert all(reached(verdicts) <= 3 for verdicts in later)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


FIGURES = {
    "times": [f"{h}{m}" for h in range(1, 13) for m in ("am", "pm")],
    "ordinals": [_ordinal(n) for n in range(1, 32)],
    "glued": [f"{c}{n}" for c in "xkv" for n in range(1, 10)],
}


@pytest.mark.parametrize("pad", [
    "ordinals", "times",
    pytest.param("glued", marks=pytest.mark.xfail(strict=True, reason=(
        "open since session 35 (``units35``) for 'k' and 'v' before a number only: the "
        "skeleton reads an ordinal, a clock's am/pm and the 'x' of times as figures "
        "(``text._FIGURE``), which ``masked`` masks whole, so ordinals and times meet 182 "
        "at seeds 1-5 (base 5b0cae0: ordinals 28.3-39.5, times 31.0-54.0) and 'x2' alone "
        "182 (base 82.9-106.5). The pad of 'x', 'k', 'v' before 1-9 meets 149.9, 129.5, "
        "136.6, 136.6, 125.4 (base 69.5, 77.0, 70.4, 57.4, 61.4): 'k1'-'k9' alone 117.9, "
        "110.4, 114.2, 134.9, 126.0 and 'v1'-'v9' alone 133.6, 149.9, 151.2, 140.5, 143.1, "
        "the same on base. Neither letter is in the set: a version's 'v' reads pitch words "
        "written in digits ('v154' is 'visa'), and 'k' before a number counts nothing. Any "
        "letter glued to a digit is a word pad of two characters, as open as random "
        "letters (``test_padding34``)"))),
])
def test_figures_with_their_unit_are_masks_too(pad: str) -> None:
    assert _campaign(_padded(4, FIGURES[pad])) >= 150
