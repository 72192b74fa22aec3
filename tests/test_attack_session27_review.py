"""Session 27's review: the merged changes attacked as a spammer who reads the code.

1. ``idn`` (hosts with ß or ς read as browsers read them, IDNA 2003's reading asked of the
   block list too). Two readings cover a host written with real ß and ς, but the view's NFKC
   writes the lunate sigma ϲ and the five mathematical final sigmas as the final ς, which a
   browser reads as σ: a host written with one of them beside a real ß or ς ("ϲοφίας.gr",
   "faß-ϲ.de") is opened as a host neither reading names (σοφίας.gr, faß-σ.de). And a host
   defanged after a label that ends in a letter outside ASCII ("faß[.]de", "café(dot)fr") or
   before an IDN suffix ("магазин[.]рф") was not read at all, where "fass[.]de" is.

Every test here fails on main (4722f18) but those labelled controls.
"""

from __future__ import annotations

import pytest

from spimguard import lists
from spimguard.text import clean, view
from test_links import codes, links_engine, lists_write

# 500 IDN links: what follows is past IDNA's budget, read in Unicode form (``host_key``).
_DECOYS = " ".join(f"ü{i}.de" for i in range(500))


def _blocked(entries: list[str], message: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", lists.parse("\n".join(entries), "domains"))])
    return "LINK_BLOCKLISTED" in codes(engine, message)


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
