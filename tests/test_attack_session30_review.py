"""Review of session 30's merged changes (``review``): the spread pitch (``burst.measure``'s
``spread``, ``keys.spread``) read as a seller who reads the code, and as the owner it must
not hold. The numbers are how many of the seller's 40 pitches reached their targets
(delivered or warned), through ``engine.process``, on main 27cfd1e. Each open finding is
a strict xfail with its numbers (``docs/red-team-log.md``, session 30, ``review``). The
decoy per pitch and the new laptop's answers, open here, are closed in
``test_attack_session31``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, event, message
from test_attack_session25 import NAMES
from test_attack_session30 import HOME, NEW_NET, _seller, greeted, reached, suspended
from test_takeover import DAY, engine_with_history

# A user's page on a host whose registrable domain is on the popular list
# (``lists.well_known``): the page is the user's, the domain the company's.
USER_PAGES = {
    "sites.google.com": "https://sites.google.com/view/cheaptones",
    "docs.google.com/forms": "https://docs.google.com/forms/d/e/1FAIpQLtones/viewform",
    "wordpress.com": "https://cheaptones.wordpress.com/",
    "github.com": "https://github.com/cheaptones/tones",
    "google.com/url": "https://www.google.com/url?q=https://cheap-tones.biz/r",
}


@pytest.mark.parametrize("page", sorted(USER_PAGES))
def test_a_pitch_on_a_user_page_of_a_popular_host_is_the_spread_pitch(page: str) -> None:
    """A seller's own page on a popular company's host (sites.google.com, a Google form,
    x.wordpress.com, github.com/x, google.com's redirect) is 'popular' (the registrable
    domain), and the spread pitch counted only sites on no popular list: to the friends
    alice greeted 100 days ago, 3 s apart, 28 of 40 reached (5 delivered, 23 warned, 12
    held), a challenge, no suspension, on main 82bbf70. A popular site vouches for what is
    shared, not for how far (``popular``'s principle): it is the spread pitch from
    ``popular_share_ties`` (15) people, 14 reach, suspended."""
    link = USER_PAGES[page]
    verdicts = _seller(greeted(100),
                       text=lambda i: f"hey {NAMES[i % 10]}! I found cheap ringtones here {link}")
    assert reached(verdicts) <= 14
    assert suspended(verdicts)


@pytest.mark.xfail(strict=True, reason="the price: the owner's new phone (her app, a new "
                   "network) giving one YouTube video to 20 friends she greeted 100 days ago, "
                   "one by one 30 s apart: 14 delivered, 6 held, sending suspended (main "
                   "82bbf70: 20 delivered); to 8: 8 delivered, as on main")
def test_the_owners_new_phone_shares_a_video_with_twenty_friends() -> None:
    engine = greeted(100)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="newphone", ip=NEW_NET, client={"id": "im-android"}))
    verdicts = [engine.process(message(
        cfg, f"s{i}", "alice", [f"alice-friend{3 + i}"],
        "haha look https://www.youtube.com/watch?v=dQw4w9WgXcQ", T0 + 30 * i,
        session="newphone", client={"id": "im-android", "ip": NEW_NET})) for i in range(20)]
    assert [v.action for v in verdicts] == ["deliver"] * 20


def _answers(people: int, apart: float = 120) -> list[Any]:
    """alice thanked friends 3..3+``people`` for their orders from her usual phone ten days
    ago (so they are her own ties, none dormant); on a new laptop (her app, a network new
    to her, no list read) each of them writes a question, unprompted, and she answers it
    40 s later with the same help page, ``apart`` seconds between customers."""
    engine = engine_with_history()
    cfg = engine.config
    for f in range(3, 3 + people):
        engine.process(message(cfg, f"o{f}", "alice", [f"alice-friend{f}"],
                               "thanks for your order!", T0 - 10 * DAY + f, session="phone",
                               client=HOME))
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="laptop", ip=NEW_NET, client={"id": "im-android"}))
    out = []
    for i in range(people):
        friend = f"alice-friend{3 + i}"
        engine.process(message(cfg, f"q{i}", friend, ["alice"],
                               "hi, how do I reset the oven? it blinks", T0 + apart * i - 40))
        out.append(engine.process(message(
            cfg, f"a{i}", "alice", [friend], "hi! step by step here https://help.casa-lupita.mx/faq",
            T0 + apart * i, session="laptop", client={"id": "im-android", "ip": NEW_NET})))
    return out


def test_a_video_typed_beside_the_site_written_apart_does_not_make_the_pitch_popular() -> None:
    """``keys.sites`` read the sites written apart only where no link was typed, so a
    YouTube link typed beside "cheap-tones. biz" made every pitch the video's: popular, no
    spread pitch; to the friends alice greeted 100 days ago, 3 s apart, 28 of 40 reached (5
    delivered, 23 warned, 12 held), no suspension, on main 27cfd1e. A message's sites are
    both: 3 reach, suspended (as with the site alone)."""
    verdicts = _seller(greeted(100), text=lambda i: (
        f"hey {NAMES[i % 10]}! like in https://www.youtube.com/watch?v=dQw4w9WgXcQ get the "
        f"ringtones at cheap-tones. biz/r?u={i}"))
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


@pytest.mark.parametrize("host", ["github.io", "duckdns.org", "blogspot.com"])
def test_a_free_name_per_pitch_is_one_site(host: str) -> None:
    """The pitch's key was the registrable domain, and a user's name under a free host or
    dynamic DNS (a private suffix of the public list) is one: "cheaptones7.github.io", a
    name per pitch, registered free, made each pitch a new site. To the friends alice
    greeted 100 days ago, 3 s apart, 28 of 40 reached (5 delivered, 23 warned, 12 held), no
    suspension, on main 27cfd1e, where redteam's site per pitch needs 40 paid domains. What
    the seller cannot vary is the service (``keys._sold``): 3 reach, suspended."""
    verdicts = _seller(greeted(100), text=lambda i: (
        f"hey {NAMES[i % 10]}! I found cheap ringtones here https://cheaptones{i}.{host}/"))
    assert reached(verdicts) <= 3
    assert suspended(verdicts)


def test_a_full_contact_list_sent_again_is_not_searched_member_by_member(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The 3-byte layout's touch searched the set for each member it was given (a scan in
    C, O(n) each): a full list of 10,000 sent again took 132 ms of CPU (the 4-byte layout's
    bisection: 6.7 ms), what an account's adapter pays on every sync, or a client makes
    the service pay at will. A touch of many members puts the held ones in a set once
    (3 ms), and a large set is bisected for a few (``hashed._has``). The answer is the same
    bytes. Counted, not timed (the suite asserts no speed): the searches a touch makes and
    the members one question reads. (Session 38's Elias-Fano layout: the set is decoded
    once, kept by its bytes, ``hashed._read``, and each question bisects the digests in C.)"""
    import random

    from spimguard.state import hashed

    draw = random.Random(30)
    digests = [draw.randrange(1 << 24) for _ in range(10_000)]
    blob = hashed.pack(T0, DAY, digests)
    hashed._decoded.clear()
    decoded = _calls(monkeypatch, hashed, "_decode")
    again = hashed.touched(blob, digests, T0 + 1, DAY, 10_000)
    assert again == hashed.pack(T0 + 1, DAY, digests)
    for d in (digests[0], digests[-1], (digests[0] + 1) & 0xFFFFFF):
        assert hashed.contains(blob, [d], T0) == (d in digests,)
    assert decoded == [1]  # once, for the touch and every question after


def _calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """``module.name`` counting its calls from now on, in the list returned."""
    calls, real = [0], getattr(module, name)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(module, name, counted)
    return calls
