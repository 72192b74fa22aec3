"""Session 28 (``apart``): a seller's site written apart for the reader to retype.

The takeover detector's pitch (session 26's ``pitching``, openers2's ``pitch_ties``) read
only the links the view typed, so a seller who wrote its site apart ("cheap-tones. biz/x",
"cheap-tones•biz") pitched nothing: 15 of 15 pitches reached their targets (session 27's
review, ``test_attack_session27_review``). The view now tells such a site from prose's
guesses (``MessageView.apart_sites``): joined by a mark prose does not write between words
("•" glued, " . ", " ・biz"), or by a full stop with a link's tail after a public suffix.
A sentence's end ("I'm done. biz trip tomorrow") and a list's separator ("coffee · books")
stay guesses only the block list reads (``apart_hosts``).

Every test here fails on main (9cb6e2d) but the controls and the strict xfails, which name
what stays open (``docs/red-team-log.md``, session 28, ``apart``).
"""

from __future__ import annotations

import pytest

from spimguard.detectors.takeover import keys
from spimguard.text import view
from test_attack_session25 import NAMES, openers_campaign


@pytest.mark.parametrize("written, site", [
    ("cheap-tones. biz/r?u=1", "cheap-tones.biz"),          # a full stop, a link's tail
    ("cheap-tones. biz?u=1", "cheap-tones.biz"),            # ... a query
    ("see cheap-tones. biz/r?u=1.", "cheap-tones.biz"),     # ... the sentence's own end after
    ("cheap-tones。 biz/x", "cheap-tones.biz"),             # an ideographic full stop
    ("cheap-tones\u200b. biz/x", "cheap-tones.biz"),        # an invisible before the mark
    ("cheap-tones•biz code 1", "cheap-tones.biz"),          # a bullet glued: no tail needed
    ("cheap-tones・biz code 1", "cheap-tones.biz"),         # katakana middle dot
    ("cheap-tones ・biz code 1", "cheap-tones.biz"),        # ... a blank before it only
    ("Cheap-tones •biz code 1", "cheap-tones.biz"),
    ("cheap-tones‧biz code 1", "cheap-tones.biz"),          # hyphenation point
    ("cheap-tones∙biz code 1", "cheap-tones.biz"),          # bullet operator
    ("cheap-tones ⋅ biz/x", "cheap-tones.biz"),             # a list's dot, but a tail after
    ("CHEAP-TONES•BIZ code 1", "cheap-tones.biz"),
    ("cheap-tones . so code 1", "cheap-tones.so"),          # blanks both sides, a suffix the
    ("cheap-tones. co. uk/x", "cheap-tones.co.uk"),         # spaced dot does not know
    ("cheap-tones•co•uk code 1", "cheap-tones.co.uk"),
    ("cheap-tones•blogspot•com", "cheap-tones.blogspot.com"),  # a private suffix
    ("hello. cheap-tones•biz", "cheap-tones.biz"),          # prose's word joined before it
    ("магазин•рф code 1", "xn--80aairftm.xn--p1ai"),        # an IDN site, as a browser's host
    ("tones4u• biz", "tones4u.biz"),
])
def test_a_site_written_apart_is_a_site(written: str, site: str) -> None:
    seen = view(written)
    assert seen.apart_sites == (site,)
    assert keys.sites(seen) == (site,)
    assert keys.pitch(seen) == keys.pitch(view(f"http://{site}/r?u=1"))  # the typed pitch's


def test_a_site_written_apart_beside_a_typed_link_is_the_typed_ones_when_the_same() -> None:
    assert view("cheap-tones.biz/x and cheap-tones•biz").apart_sites == ()
    assert view("other.com/x cheap-tones•biz").apart_sites == ("cheap-tones.biz",)
    # Both sites, the typed one first (review, session 30: the site written apart was left
    # out where a link was typed, so a video's link made the seller's pitch popular).
    assert keys.sites(view("other.com/x cheap-tones•biz")) == ("other.com", "cheap-tones.biz")


@pytest.mark.parametrize("written", [
    "cheap-tones . biz", "cheap-tones。biz", "cheap-tones [dot] biz", "cheap-tones ． biz/x"])
def test_the_forms_the_view_types_are_sites_as_before(written: str) -> None:
    """Control (as on main but for ``keys.sites``): these are typed links already."""
    assert view(written).domains == ("cheap-tones.biz",)
    assert keys.sites(view(written)) == ("cheap-tones.biz",)


@pytest.mark.parametrize("prose", [
    "I'm done. biz trip tomorrow", "see you at 5. com'on", "ok. so", "yes. me too",
    "fine. com on", "I know. in a bit", "lol. github.io is down", "man. My day",
    "I'm done. Biz trip tomorrow",
    "taking dress .so only", "just add .md to any docs URL",   # ham texts of the corpora
    "yes, no/maybe", "ok, now/later?", "we in/out?", "the tv/radio", "buy now/pay later",
    "is it free? me/you", "yes no/maybe",
    "coffee · books · travel", "art • design • photography", "music ・ games",
    "things to get:\n• food\n• shop\n• car", "vil·la", "clothes, jewelry",
])
def test_prose_writes_no_site(prose: str) -> None:
    """Guards: a sentence's end, a list's separator, a comma or a blank before a path, as
    chat writes them, are guesses for the block list alone (as on main), never a site."""
    assert view(prose).apart_sites == ()
    assert keys.sites(view(prose)) == ()


@pytest.mark.parametrize("written", [
    "cheap-tones ・biz code {i}", "cheap-tones . so code {i}", "cheap-tones. co. uk/r?u={i}",
    "магазин•рф code {i}"])
def test_a_pitch_with_its_site_written_apart_another_way_is_the_pitch(written: str) -> None:
    """The siblings of session 27's "cheap-tones. biz/r?u=N" and "cheap-tones•biz code N"
    (that test, now plain): on main 15 of 15 pitches reach their targets."""
    pitches = openers_campaign(
        lambda i: f"hey {NAMES[i % 10]}! I found cheap ringtones here {written.format(i=i)}")
    assert sum(v.action in ("deliver", "warn") for v in pitches) <= 3


@pytest.mark.xfail(strict=True, reason=(
    "open: prose writes the same (\"I'm done. biz trip tomorrow\", \"we in/out?\", "
    "\"coffee • books\"), so these stay guesses for the block list alone"))
@pytest.mark.parametrize("written", [
    "cheaptones. biz code 1",    # a sentence's end, no tail
    "cheap-tones biz/r?u=1",     # a blank before the tail
    "cheap-tones, biz/r?u=1",    # a comma before the tail
    "cheap-tones • biz code 1",  # a list's separator, no tail
])
def test_a_site_written_as_prose_writes_is_no_site(written: str) -> None:
    assert view(written).apart_sites
