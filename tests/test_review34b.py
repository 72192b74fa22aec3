"""Red team, session 34 (``review34b``): ``split34``'s join and ``padding34``'s masks
from the spammer's seat.

``split34`` joined a session's words and the site it gives the same recipient next into
one utterance, but kept it a session's: a seller signed in twice to each victim gave the
words from one session and the link from the other, and nothing was joined (42 of 60
reached on main b9e2615, as with no join at all). The reader sees who wrote, not from
which device: the turn is the account's (``detectors/turns.py``), as ``unproven_sent``
already counts all the account's unproven sessions (``review32c``).
"""

from __future__ import annotations

import pytest

from conftest import T0, config, message
from spimguard import open_engine
from test_attack_session30 import reached, suspended
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
