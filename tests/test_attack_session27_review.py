"""Session 27's review: the merged changes attacked as a spammer who reads the code.

1. ``idn`` (hosts with ß or ς read as browsers read them, IDNA 2003's reading asked of the
   block list too). Two readings cover a host written with real ß and ς, but the view's NFKC
   writes the lunate sigma ϲ and the five mathematical final sigmas as the final ς, which a
   browser reads as σ: a host written with one of them beside a real ß or ς ("ϲοφίας.gr",
   "faß-ϲ.de") is opened as a host neither reading names (σοφίας.gr, faß-σ.de). And a host
   defanged after a label that ends in a letter outside ASCII ("faß[.]de", "café(dot)fr") or
   before an IDN suffix ("магазин[.]рф") was not read at all, where "fass[.]de" is.
2. The takeover detector's pitch (session 26's ``pitching``, openers2's ``pitch_ties``): a
   seller who writes the site apart was not pitching (a strict xfail here until session
   28's ``apart``: ``MessageView.apart_sites``; its siblings in
   ``test_attack_session28_apart``).

Every test here fails on main (4722f18) but those labelled controls and the strict xfails.
"""

from __future__ import annotations

import pytest

from spimguard.text import clean, view
from test_attack_idna_deviations import _DECOYS, _blocked
from test_attack_session25 import NAMES, openers_campaign


# What a browser opens (UTS #46, no transitional processing: the ``idna`` package's
# mapping), beside how each is written: a compatibility sigma is σ, a real ς stays.
@pytest.mark.parametrize("before", ["", _DECOYS], ids=["under the budget", "past it"])
@pytest.mark.parametrize("listed, written", [
    ("xn--kxae4bobt.gr", "ϲοφίας.gr/x"),           # σοφίας.gr, its first σ lunate
    ("xn--kxae4bobt.gr", "\U0001d6d3οφίας.gr/x"),   # ... a mathematical final sigma
    ("xn--fa--6ka518a.de", "faß-ϲ.de/x"),           # faß-σ.de: a real ß, a lunate sigma
    ("xn--3xac.gr", "ςϲ.gr/x"),                     # ςσ.gr
    ("xn--kxae4bobt.gr", "https://%CF%B2οφίας.gr/x"),  # percent-encoded ϲ: read the same
    ("xn--kxae4bobt.gr", "ϲοφίας. gr"),             # written apart
])
def test_a_compatibility_sigma_beside_a_deviation_is_read_as_sigma(
        listed: str, written: str, before: str) -> None:
    assert _blocked([listed], f"{before} {written}")


def test_a_compatibility_sigma_is_a_sigma_in_the_text() -> None:
    assert clean("ϲοφίας \U0001d6d3\U0001d70d\U0001d747\U0001d781\U0001d7bb") == "σοφίας σσσσσ"
    assert [u.host_unicode for u in view("ϲοφίας.gr/x").urls] == ["σοφίας.gr"]
    # ϲ for a Latin c: the host browsers open (and the view read before idn), not "ςoinbase"
    # (xn--oinbase-wpf.com, which no client opens), for reputation and the look-alikes too.
    assert [u.host for u in view("ϲoinbase.com/login").urls] == ["xn--oinbase-4pf.com"]


def test_an_innocent_host_is_not_blocked_by_its_lunate_spelling() -> None:
    """"ϲοφία.gr" is σοφία.gr in every browser; the view read "ςοφία.gr", a host no client
    opens (listed, it blocked the innocent)."""
    assert not _blocked(["xn--kxae4blv.gr"], "ϲοφία.gr/x")  # ςοφία.gr
    assert _blocked(["xn--kxae4bpq.gr"], "ϲοφία.gr/x")  # σοφία.gr: the control, as on main


@pytest.mark.parametrize("listed, written", [
    ("xn--fa-hia.de", "faß[.]de"), ("xn--fa-hia.de", "faß(.)de/x"),
    ("xn--fa-hia.de", "faß [dot] de"), ("xn--fa-hia.de", "faß dot de"),
    ("xn--kxae4bobt.gr", "σοφίας[.]gr"), ("xn--caf-dma.fr", "café(dot)fr"),
    ("xn--80aairftm.xn--p1ai", "магазин[.]рф"), ("xn--80aairftm.xn--p1ai", "магазин{.}рф"),
])
def test_a_listed_idn_host_defanged(listed: str, written: str) -> None:
    """Defanged on purpose, as "fass[.]de" is (the control, as on main): a label may end in
    any letter and an IDN suffix begin with one."""
    assert _blocked([listed], written)
    assert _blocked(["fass.de"], "fass[.]de")


def test_prose_with_a_spaced_dot_after_a_letter_outside_ascii_reads_no_unknown_suffix() -> None:
    """The control (as on main): a spaced dot counts before a well-known suffix only."""
    assert view("très bien . voilà").urls == ()


# 2. The pitch's site written apart. Session 26's rule (``burst.pitching``: the site already
#    given another answerer is no reply) and openers2's (links to ``pitch_ties`` dormant
#    ties) ask only of a message with a link the view typed (``view.urls``). The seller
#    writes the site apart, as the block list still reads it ("cheap-tones. biz/r?u=N",
#    "cheap-tones•biz"): no link, so no pitch, and the answers' replies excuse the burst.
#    On main (4722f18) 15 of the 15 pitches reach their targets (11 delivered, 4 warned)
#    where typed they reach 2 (1 delivered, 1 warned, 13 held); the same with openers2
#    (a site per pitch written apart: 15 of 15, typed 3). The view's apart hosts are
#    guesses that chat makes too ("ok. so", "yes. me too", "fine. com on"); session 28
#    (``apart``) tells a site written apart with a link's tail or a joiner that is no
#    sentence's end ("•") from them (``MessageView.apart_sites``), which the pitch reads.
@pytest.mark.parametrize("written", ["cheap-tones. biz/r?u={i}", "cheap-tones•biz code {i}"])
def test_a_pitch_with_its_site_written_apart_is_the_pitch(written: str) -> None:
    pitches = openers_campaign(
        lambda i: f"hey {NAMES[i % 10]}! I found cheap ringtones here {written.format(i=i)}")
    assert sum(v.action in ("deliver", "warn") for v in pitches) <= 3
