"""Hosts written apart are a guess for the operator's block list, not links.

"tones-shop. com/new" reads as tones-shop.com, and so does chat: "yes, no/maybe" as yes.no,
"ok, now/later?" as ok.now (session 16's review: 45 of 57 such phrases). Read as links, the
phrases fed reputation, the fingerprint, bulk and takeover: forty friends writing "ok,
now/later?" were warned, and three reports on a griefer's "yes, no/maybe" blocked the
phrase for everyone. The guess is kept apart (``MessageView.apart_hosts``), and only the
block list reads it: a name the operator listed is no accident.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, established, event, message
from conftest import engine as make_engine
from spimguard.text import view
from test_links import codes, links_engine, lists_write

# Friends' chat with "a, b/c" or "a. b/c" where b is an ICANN suffix (ccTLDs and the new
# gTLDs), from the review: each is read as the host on the right.
PROSE_LINKS = {
    "yes, no/maybe": "yes.no", "ok. so/what": "ok.so", "I'm in paris. fr/en": "paris.fr",
    "3.5. de/at": "3.5.de", "ok, now/later": "ok.now", "sure, today/tomorrow": "sure.today",
    "wine, beer/cider": "wine.beer", "Saturday, work/school": "saturday.work",
    "we need bread, pizza/pasta": "bread.pizza", "hey, how/why": "hey.how",
    "either way, win/lose": "way.win", "python: os, io/sys": "os.io",
}


@pytest.mark.parametrize(("text", "host"), PROSE_LINKS.items())
def test_prose_with_a_suffix_word_and_a_slash_is_a_guess_not_a_link(text: str,
                                                                     host: str) -> None:
    seen = view(text)
    assert host in seen.apart_hosts
    assert seen.urls == () and seen.domains == () and host not in seen.masked


@pytest.mark.parametrize("text", ["yes, no/maybe", "I'm in paris. fr/en"])
def test_the_operator_who_lists_the_name_blocks_the_phrase(text: str) -> None:
    """A name on the block list is the operator's word: the guess counts for it."""
    engine = links_engine()
    engine.write_state([lists_write("block", [PROSE_LINKS[text]])])
    assert "LINK_BLOCKLISTED" in codes(engine, text)


def test_an_unlisted_guess_gets_no_link_signal() -> None:
    """Written apart, a phishing pitch's host is judged by no check but the block list:
    no look-alike, no credential bait next to a link, no shape."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert codes(engine, "verify your password at paypal-login. com/verify") == set()


def test_a_typed_link_and_a_guess_are_both_checked() -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, "see example.org/a or tones-shop, com/new")


def _forty_friends(text: str) -> list[str]:
    """The actions on forty established accounts each writing ``text`` to a friend of
    theirs, ten seconds apart."""
    engine = make_engine()
    established(engine, *[f"u{i}" for i in range(40)], *[f"f{i}" for i in range(40)])
    return [engine.process(message(engine.config, f"m{i}", f"u{i}", [f"f{i}"], text,
                                   T0 + 10 * i)).action for i in range(40)]


@pytest.mark.parametrize("text", ["ok, now/later?", "yes, no/maybe",
                                  "ok now/later?", "yes no/maybe"])
def test_a_common_phrase_spread_by_many_friends_is_delivered(text: str) -> None:
    """Review: 30 of 40 were warned (LINK_REPUTATION) with the comma; without it, the
    control, 40 of 40 delivered."""
    assert _forty_friends(text).count("deliver") == 40


def _reported_three_times(text: str) -> Any:
    """A griefer sends ``text`` to three established accounts, which report it as spam;
    an hour later one established friend writes ``text`` to another."""
    engine = make_engine()
    established(engine, "f1", "f2", "f3", "g1", "g2")
    for i in range(3):
        engine.process(message(engine.config, f"p{i}", "griefer", [f"f{i + 1}"], text, T0 + i))
        engine.process(event(engine.config, type="report", id=f"r{i}", ts=T0 + 40 + i,
                             reporter=f"f{i + 1}", message_id=f"p{i}", label="spam"))
    return engine.process(message(engine.config, "x", "g1", ["g2"], text, T0 + 3600))


@pytest.mark.parametrize("text", ["yes, no/maybe", "yes no/maybe"])
def test_reports_on_a_phrase_do_not_block_it_for_everyone(text: str) -> None:
    """Review: three reports on "yes, no/maybe" taught reputation the 'link' yes.no and
    the phrase was BLOCKED between friends (LINK_REPUTATION, CAMPAIGN_CONFIRMED); the
    phrase without the comma is the control."""
    assert _reported_three_times(text).action == "deliver"


@pytest.mark.parametrize("unit", ["a\u2022com ", "a. com ", "5. com ", "a;com/x "])
def test_a_text_of_separators_is_read_whole_each_place_once(
        unit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each place the written-apart pattern finds is judged in Python, once: all of them
    (session 23: a cap on them let a text choose which of its guesses escape the block list,
    chat's "ok. so" put first), so 64 KiB of them must stay linear and bounded."""
    import time

    import spimguard.text as text

    judged = 0
    apart_dot = text._apart_dot

    def counted(found: Any) -> str:
        nonlocal judged
        judged += 1
        return apart_dot(found)

    monkeypatch.setattr(text, "_apart_dot", counted)
    places = 65536 // len(unit)
    started = time.process_time()
    text._apart_hosts(unit * places, ())
    assert judged == places and time.process_time() - started < 1.0
