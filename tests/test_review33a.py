"""Red team, session 33: review of ``content32``'s readings from a spammer's seat (``review33a``).

Measured on main (450ddd1) before the fixes:

- UAX #9 counts embedding levels, not controls: an opener of the other parity goes one
  level deeper, one of its own two, so U+202B RIGHT-TO-LEFT EMBEDDING 63 times reaches level
  125, and a U+202E after them opens nothing: a renderer draws the text after it as stored.
  ``drawn_order`` counted 64 controls of 125 and reversed it: a winner pitch written so was
  read backwards, p 1.000 -> 0.141 (under warn_at), for every 63-124 embeddings before it.
- A text with an override is read for links in both orders (session 32's lead), the two
  lists joined and cut at ``MAX_URLS``: 64 links read only as stored pushed out one read
  only as drawn, and it went nowhere, not even to ``unread_hosts``: a denied host so
  written got no signal.
- Chat's emphasis around a link with a scheme: "*https://tones-shop.com*" (WhatsApp's and
  Telegram's bold), "_..._", "~...~" was read as the host "tones-shop.com*": no signal for
  a denied host (the bare host's emphasis was closed in session 32, not this one).
- A host after a combining mark at its chunk's start ("\\u0301tones-shop.com"): the mark was
  read as the label's first character, the host as xn--tones-shop-q0f.com, which no browser
  opens (UTS #46 refuses a label that starts with a mark): no signal for a denied host.
- An enclosing mark (a circle around the suffix's last letter) was read as part of the
  suffix since session 32: no suffix, no link, no signal.
- Another language's word for the dot defanged as "dot" is ("tones-shop[punto]com",
  "tones-shop (punkt) com"): no guess for the block list.

Left open (strict xfails, with the numbers): the reordering of runs that UAX #9 does
beyond overrides (isolates and embeddings that lay runs out right to left). An enclosing
mark inside a label and Chinese "点" for the dot, left open here, were closed in session 34
(``test_links34``).
"""

from __future__ import annotations

import pytest

from spimguard.model import scorer
from spimguard.text import MAX_URLS, drawn_order, view
from test_links import codes, links_engine, lists_write

RLO, PDF, RLE, LRE = "\u202e", "\u202c", "\u202b", "\u202a"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
PITCH = ("URGENT! You have won a free prize of 2000 GBP cash. Claim now, call 09061701461, "
         "reply STOP to opt out")
DENIED = "tones-shop.com"


def blocked(text: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", [DENIED])])
    return "LINK_BLOCKLISTED" in codes(engine, text)


# Each as GNU FriBidi (UAX #9) draws it: checked against libfribidi by ctypes.
DRAWN = [
    (RLE * 62 + RLO + "cba", "abc"),  # levels 1, 3, ..., 123: the override opens level 125
    (RLE * 63 + RLO + "cba", "cba"),  # level 125 reached: the override opens nothing
    (RLE * 124 + RLO + "cba", "cba"),  # main: 124 controls of 125, reversed
    (RLI * 63 + RLO + "cba", "cba"),  # isolates count levels too
    # A first-strong isolate runs the way of its first letter: right to left from level 0
    # is level 1, and 62 embeddings after it reach 124; left to right is level 2, and the
    # 62nd embedding would be 126, so the override after it opens nothing either.
    (FSI + "\u05d0" + LRE * 62 + RLO + "cba", "\u05d0abc"),
    (FSI + "x" + LRE * 62 + RLO + "cba", "xcba"),
    (RLO + RLI + PDF + "ab" + PDI + "cd", "dcab"),  # a PDF inside an isolate closes nothing
]


def test_the_depth_is_counted_in_levels() -> None:
    assert [drawn_order(stored) for stored, _ in DRAWN] == [read for _, read in DRAWN]


@pytest.mark.parametrize("embeddings", [63, 64, 100, 124])
def test_a_pitch_after_an_override_past_the_depth_is_read_as_drawn(embeddings: int) -> None:
    seen = view(RLE * embeddings + RLO + PITCH + PDF)
    assert PITCH in seen.text  # main: read backwards
    model = scorer.load(None)
    assert model.probability(seen) >= model.card["thresholds"]["hold_at"]  # main: 0.141


def test_links_past_the_cap_of_both_readings_reach_the_block_list() -> None:
    decoys = " ".join(f"decoy{at}.com" for at in range(MAX_URLS))
    written = f"{RLO}{decoys}{PDF} {RLO}{DENIED[::-1]}{PDF}"  # read as stored, then as drawn
    seen = view(written)
    assert len(seen.urls) == MAX_URLS and DENIED in seen.unread_hosts
    assert blocked(written)  # main: no signal


@pytest.mark.parametrize("written", [
    f"see *https://{DENIED}* now", f"see _https://{DENIED}_ now", f"see ~https://{DENIED}~ now",
    f"see *_https://{DENIED}_* now", f"see __http://{DENIED}__ now", f"see *www.{DENIED}*.",
])
def test_a_denied_link_in_chat_s_emphasis_is_blocked(written: str) -> None:
    assert blocked(written)


def test_a_link_in_emphasis_is_the_link() -> None:
    assert [(url.host, url.path) for url in view(f"*https://{DENIED}/a*").urls] == [(DENIED, "/a")]
    assert view("https://en.wikipedia.org/wiki/Snake_case_").urls[0].path == "/wiki/Snake_case_"


@pytest.mark.parametrize("written", [
    "tones-shop[punto]com", "tones-shop (punkt) com", "tones-shop{ponto}com",
    "tones-shop [ titik ] com",
])
def test_a_denied_host_defanged_with_a_foreign_dot_is_blocked(written: str) -> None:
    assert blocked(f"join free at {written}")
    assert view(f"join free at {written}").urls == ()  # a guess, never a link


@pytest.mark.parametrize("written", [
    f"see \u0301{DENIED} now", f"see \u0301\u0336{DENIED}/join",
    f"see {DENIED}\u20dd now",  # an enclosing circle around its last letter
])
def test_marks_no_label_holds_are_no_part_of_a_host(written: str) -> None:
    """No label starts with a mark (UTS #46 refuses it; a browser opens nothing): one before
    a chunk's first letter is drawn on the blank before it, and the reader reads the host
    from its letter (main: xn--tones-shop-q0f.com, since session 32's marked labels). An
    enclosing mark is no letter's (main: the suffix "com\u20dd", no link)."""
    assert [url.host for url in view(written).urls] == [DENIED]
    assert blocked(written)


# -- left open ------------------------------------------------------------------------------


@pytest.mark.xfail(strict=True, reason=(
    "UAX #9 lays runs out by level, not only overrides: inside a right-to-left isolate or "
    "embedding, left-to-right runs parted by an isolate (or an override beside an RTL "
    "embedding) are drawn right to left one after another. 'RLI LRI com PDI . LRI "
    "tones-shop PDI PDI' is drawn 'tones-shop.com' (libfribidi) and read 'com.tones-shop': "
    "no link, no guess, a denied host gets no signal; a pitch with its words so stored in "
    "reverse is read in reverse (p stays 1.000: the model reads words, not their order). "
    "In a fuzz of 20,000 texts of Latin letters and LRE/RLE/LRO/RLO/PDF, 220-245 (1.1-1.2 %) "
    "are read otherwise than libfribidi draws them (main: 745, the depth's share fixed). "
    "Candidate: UAX #9's whole reordering (W1-I2, L2) for texts with a bidi control"))
def test_runs_laid_out_right_to_left_by_isolates_are_read_as_drawn() -> None:
    assert blocked(f"{RLI}{LRI}com{PDI}.{LRI}tones-shop{PDI}{PDI}")
