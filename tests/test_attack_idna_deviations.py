"""Session 27 (``idn``): the hosts a message names, read as a browser opens them.

1. IDNA 2008's deviation characters. Browsers read a host by UTS #46 without transitional
   processing (Chrome since 110, Firefox, Safari): "faß.de" is xn--fa-hia.de and "σοφίας.gr"
   xn--kxae4bobt.gr, registrable domains of their own. The view read them by IDNA 2003
   (ß as "ss", ς as σ), so a spammer's listed xn--fa-hia.de was missed written "faß.de",
   and an operator's "faß.de", imported as fass.de, blocked the innocent fass.de. A host
   written with ß or ς is now read as browsers read it, and IDNA 2003's reading (what older
   clients open) is asked of the block list too (``MessageView.transitional_hosts``).
2. IDNA's budget (``MAX_IDN_CHARS``) counted a link written outside ASCII whole, path and
   all, and a host percent-encoded ("b%C3%BC.de") not at all, though ``read_host`` decodes
   it and pays IDNA: 64 KiB of them paid IDNA for ~2,700 hosts. It now counts the host IDNA
   reads.

Every test here but those labelled controls fails on main (84675dc).
"""

from __future__ import annotations

import random
import time
import unicodedata

import idna as uts46
import pytest

from spimguard import lists, text
from spimguard.text import MAX_IDN_CHARS, host_key, read_host, unicode_label, view
from test_links import codes, links_engine, lists_write

_SPAMMERS = ["xn--fa-hia.de", "xn--kxae4bobt.gr"]  # faß.de and σοφίας.gr, as a feed lists them
# 500 IDN links: what follows is past IDNA's budget, read in Unicode form (``host_key``).
_DECOYS = " ".join(f"ü{i}.de" for i in range(500))


def _blocked(entries: list[str], message: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", lists.parse("\n".join(entries), "domains"))])
    return "LINK_BLOCKLISTED" in codes(engine, message)


@pytest.mark.parametrize("before", ["", _DECOYS], ids=["under the budget", "past it"])
@pytest.mark.parametrize("link", [
    "faß.de/x", "FAẞ.DE/x", "https://faß.de", "www.faß.de", "http://fa%C3%9F.de/x",
    "shop.faß.de/x", "σοφίας.gr/x", "https://σοφίας.gr/x", "http://%CF%83%CE%BF%CF%86%CE"
    "%AF%CE%B1%CF%82.gr/x",
])
def test_a_listed_host_written_with_a_deviation_character(link: str, before: str) -> None:
    assert _blocked(_SPAMMERS, f"{before} {link}")


@pytest.mark.parametrize("written", ["faß. de", "faß•de", "see faß de/x"])
def test_a_listed_host_with_a_deviation_character_written_apart(written: str) -> None:
    assert _blocked(_SPAMMERS, written)


def test_a_deviation_host_is_read_as_browsers_read_it() -> None:
    seen = view("faß.de/x and σοφίας.gr/y")
    assert [(u.host, u.host_unicode, u.domain) for u in seen.urls] == [
        ("xn--fa-hia.de", "faß.de", "xn--fa-hia.de"),
        ("xn--kxae4bobt.gr", "σοφίας.gr", "xn--kxae4bobt.gr")]
    # What IDNA 2003 (Chrome before 110, java.net.IDN) opens: for the block list alone.
    assert seen.transitional_hosts == ("fass.de", "xn--kxae4bpdp.gr")


def test_an_operators_entry_with_a_deviation_character_is_the_browsers_host() -> None:
    assert lists.parse("faß.de\nσοφίας.gr\nΣΟΦΊΑΣ.GR\n", "domains") == [
        "xn--fa-hia.de", "faß.de", "xn--kxae4bobt.gr", "σοφίας.gr",
        # A capital Σ is σ wherever it stands (UTS #46), not the final ς of ``str.lower``.
        "xn--kxae4bpdp.gr", "σοφίασ.gr"]
    assert lists.parse("xn--fa-hia.de\n", "domains") == ["xn--fa-hia.de", "faß.de"]


@pytest.mark.parametrize("before", ["", _DECOYS], ids=["under the budget", "past it"])
@pytest.mark.parametrize("entry, innocent", [
    ("faß.de", "fass.de/x"), ("faß.de", "FASS.DE"), ("σοφίας.gr", "σοφίασ.gr/x"),
])
def test_an_operators_entry_with_a_deviation_character_spares_its_folding(
        entry: str, innocent: str, before: str) -> None:
    assert not _blocked([entry], f"{before} {innocent}")


@pytest.mark.parametrize("message", [
    "faß.de/x", f"{_DECOYS} faß.de/x", "faß. de",
    # NFKC writes the lunate sigma ς; a browser reads it σ, as IDNA 2003 does.
    "ϲοφίαϲ.gr/x",
], ids=["typed", "past the budget", "written apart", "lunate sigma"])
def test_a_deviation_host_is_asked_as_idna_2003_reads_it_too(message: str) -> None:
    """The control (as on main): a host listed as IDNA 2003 reads it (fass.de, or
    σοφίασ.gr, xn--kxae4bpdp.gr) blocks a message that older clients take there."""
    assert _blocked(["fass.de", "xn--kxae4bpdp.gr"], message)


def test_a_capital_sigma_is_read_as_sigma() -> None:
    """The control (as on main, where IDNA 2003 folds both): "ΣΟΦΊΑΣ.GR" is σοφίασ.gr as
    UTS #46 maps a capital Σ, not σοφίας.gr (``str.lower``'s final sigma)."""
    assert [u.host for u in view("ΣΟΦΊΑΣ.GR/x").urls] == ["xn--kxae4bpdp.gr"]
    assert not _blocked(["xn--kxae4bobt.gr"], "ΣΟΦΊΑΣ.GR/x")


def test_a_deviation_hosts_reading_is_the_idna_packages_and_its_key_its_decodings() -> None:
    """``read_host`` against the ``idna`` package (IDNA 2008 + UTS #46, stricter than a
    browser: it refuses what IDNA 2008 does not hold), and ``host_key`` (past the budget)
    against what the browser's punycode decodes to, for a sample of every code point
    beside ß and before ς, and random labels. A key differs only for code points newer
    than Python's Unicode (unassigned there: NFKC leaves them, the package maps them)."""
    rng = random.Random(27)
    points = [chr(c) for c in range(0x80, 0x110000, 97) if not 0xD800 <= c <= 0xDFFF]
    labels = [f"aß{c}b" for c in points] + [f"{c}ς" for c in points] + [
        "".join(rng.choice(points) for _ in range(3)) + rng.choice("ßς") for _ in range(3000)]
    encoded = keyed = 0
    for label in labels:
        host = text.clean(label).lower()
        if any(c in host for c in "./:?#@[]\\% ") or "\u03a3" in label:
            continue
        read = read_host(host)
        assert read is not None
        try:
            expected = uts46.encode(host, uts46=True, std3_rules=False).decode("ascii")
        except (uts46.IDNAError, UnicodeError):
            pass
        else:
            encoded += 1
            assert read[0] == expected, [hex(ord(c)) for c in label]
        if read[0].startswith("xn--") and all(unicodedata.category(c) != "Cn" for c in host):
            keyed += 1
            assert host_key(host) == host_key(unicode_label(read[0])), label
    assert encoded > 2_000 and keyed > 2_000


def test_a_host_without_a_deviation_character_keeps_its_idna_2003_form() -> None:
    """The control (as on main): stored verdict state, lists and reputation keep their
    forms; only hosts with ß or ς move."""
    for host in ("bücher-shop.de", "магазин.рф", "straße.de".replace("ß", "ss"), "σοφίασ.gr",
                 "xn--bcher-kva.de", "中国.cn"):
        assert read_host(host)[:2] == (host.encode("idna").decode("ascii"),
                                       host.encode("idna").decode("idna"))


# Open: ZWJ and ZWNJ, the other two deviations, are invisible, and ``clean`` drops them from
# every text (zero-width tricks), so the view reads "نامه\u200cها.ir" without its ZWNJ, as
# IDNA 2003 does: the browser's xn--mgba3gcha2927b.ir, listed, is missed. An operator's
# entry written in Unicode is read the view's way (xn--mgba3gcha.ir) and matches.
@pytest.mark.xfail(strict=True, reason=(
    "the view drops ZWJ/ZWNJ from every text before it reads hosts; keeping them in hosts "
    "alone needs the raw text's offsets through NFKC and unspacing"))
def test_a_listed_host_with_a_zero_width_joiner() -> None:
    assert _blocked(["xn--mgba3gcha2927b.ir"], "نامه\u200cها.ir/x")


def _family(make: str) -> str:
    """64 KiB of numbered links, as ``benchmarks/text_worst.py`` builds its families."""
    links, size = [], 0
    while size < 64 * 1024 - 40:
        links.append(make.format(len(links)))
        size += len(links[-1].encode()) + 1
    return " ".join(links)


@pytest.mark.parametrize("make", ["http://b%C3%BC{}.de/x", "http://fa%C3%9F{}.de/x",
                                  "faß{}.de", "b{}.xn--p1ai"])
def test_idnas_budget_counts_the_hosts_it_reads(make: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A host percent-encoded costs IDNA as one written outside ASCII does: IDNA reads at
    most ``MAX_IDN_CHARS`` characters of a text's hosts (and one host more), the rest are
    read in Unicode form for the block list, none skipped. (Hosts written outside ASCII or
    in punycode, "faß{}.de" and "b{}.xn--p1ai", are the controls: counted on main too.)"""
    asked: list[int] = []
    ascii_host = text._ascii_host

    def counted(host: str, *args: bool) -> tuple[str, str]:
        if not host.isascii() or "xn--" in host:
            asked.append(len(host))
        return ascii_host(host, *args)

    monkeypatch.setattr(text, "_ascii_host", counted)
    family = _family(make)
    started = time.process_time()
    seen = view(family)
    assert time.process_time() - started < 1.5
    assert sum(asked) <= MAX_IDN_CHARS + 64 and len(seen.urls) == text.MAX_URLS
    assert len(seen.unread_hosts) > 2_000
    monkeypatch.undo()
    assert _blocked(["xn--bcher-shop-9db.de"], f"{family[:60_000]} bücher-shop.de/x")


def test_a_links_path_costs_no_idna() -> None:
    """A path written outside ASCII is no host IDNA reads: the links after forty such
    (2,800 characters) are read whole, not past the budget."""
    before = " ".join(f"https://a{i}.com/" + "страница" * 8 for i in range(40))
    assert len(before) > MAX_IDN_CHARS
    assert [u.host for u in view(f"{before} bücher.de/x").urls][-1] == "xn--bcher-kva.de"
