"""Red team, session 24: the block list's reading of links, attacked by a spammer who read it.

Each finding is a test: fixed ones fail on main (ca7a710) and pass here; open ones are
``xfail(strict=True)`` with the reason and its numbers. The operator lists
tones-shop.com (and, for the hosts under a company's suffix, tones-shop.blogspot.com), and
two hosts written outside ASCII (bücher-shop.de, магазин.рф), imported as an operator
imports them (``lists.parse``). Session 26 closed the two left open (6 and 7).
"""

from __future__ import annotations

import random
import time
import unicodedata
from encodings import idna

import pytest

from spimguard import lists
from spimguard.text import MAX_IDN_CHARS, host_key, view
from test_links import codes, links_engine, lists_write

_LISTED = ["tones-shop.com", "tones-shop.blogspot.com", "xn--bcher-shop-9db.de",
           "xn--80aairftm.xn--p1ai"]


def _blocked(text: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", lists.parse("\n".join(_LISTED), "domains"))])
    return "LINK_BLOCKLISTED" in codes(engine, text)


# 1. A link typed with a "://" in its path, query or fragment was no link at all: a link
# without a scheme had "http://" put before it only when it held no "://" anywhere, so
# urlsplit read "tones-shop.com/r?to=https://x" as a path with no host, and every check of
# the links detector (block list, look-alikes, the URL model) and of reputation missed it.
# A redirect's link is written so, and "#://" after any link hid it. Three slashes after
# the scheme hid it too ("http:///tones-shop.com": a browser skips them). Past the view's
# caps ("www.tones-shop.com:/x", "http://tones-shop.com:/x") the host was read as "x" or as
# none (an empty port).
@pytest.mark.parametrize("link", [
    "tones-shop.com/r?to=https://example.org", "tones-shop.com/x#://",
    "www.tones-shop.com/?u=http://x", "http:///tones-shop.com/x",
])
def test_a_link_with_a_scheme_further_on_is_read(link: str) -> None:
    assert [u.host for u in view(f"see {link}").urls][-1:] in (["tones-shop.com"],
                                                             ["www.tones-shop.com"])
    assert _blocked(f"see {link} now")


@pytest.mark.parametrize("link", ["www.tones-shop.com:/x", "http://tones-shop.com:/x"])
def test_a_link_past_the_caps_with_an_empty_port_or_a_scheme_further_on(link: str) -> None:
    decoys = " ".join(f"https://d{i}.example.org/p" for i in range(70))
    assert _blocked(f"{decoys} {link}")


def test_a_list_entry_with_a_scheme_in_its_query_names_its_host() -> None:
    assert lists.parse("tones-shop.com/r?to=https://x.org\nhxxp://b.evil.com/\n", "urls") == [
        "tones-shop.com", "b.evil.com"]


# 2. A host of thousands of labels: the block list looked up every suffix of a link's host,
# a 64 KiB host ("a.a.a...") has 32,768, a gigabyte of characters: 89 s for one message on
# main (16 KiB: 3.4 s). No list names a host longer than DNS holds (253 characters).
def test_a_host_of_thousands_of_labels_costs_what_its_text_does() -> None:
    host = "a." * 4000 + "tones-shop.com"
    suffixes = lists.host_suffixes(host)
    assert suffixes[-2:] == ("tones-shop.com", "com")
    assert max(map(len, suffixes)) <= 253 and len(suffixes) <= 127
    assert lists.parse(f"{'a.' * 200}com\ntones-shop.com\n", "domains") == ["tones-shop.com"]
    started = time.process_time()
    assert _blocked("a." * 8000 + "tones-shop.com")
    assert _blocked("https://" + "a." * 8000 + "tones-shop.com/x")
    assert time.process_time() - started < 1.5


# 3. Hosts written apart at more than one dot. Each mark was joined only before a public
# suffix, so in "tones-shop. blogspot. com" the first mark (before "blogspot", no suffix)
# stayed prose and the host read was blogspot.com: a listed host under a company's suffix
# (a free blog or site builder, where spam pages live) or any subdomain escaped the list.
# A mark read as a dot before a label joined in turn to a suffix is a dot too; the host is
# read from each label so joined as well ("said. tones-shop. com": the first may be prose's).
@pytest.mark.parametrize("text", [
    "tones-shop. blogspot. com", "tones-shop•blogspot•com", "tones-shop. blogspot com/new",
    "visit tones-shop · blogspot · com today",
])
def test_a_host_written_apart_at_each_dot_is_read_whole(text: str) -> None:
    assert "tones-shop.blogspot.com" in view(text).apart_hosts
    assert _blocked(text)


def test_a_host_written_apart_after_a_sentence_is_read_from_each_label() -> None:
    assert view("I said. tones-shop. com").apart_hosts == ("said.tones-shop.com",
                                                           "tones-shop.com")


# 4. A host written apart after a '/' was a link's path whatever came before it: the
# typed link "go/tones-shop.com" was read, "go/tones-shop. com" was not. A '/' is a path's
# after a host or a scheme, as the links typed are read.
@pytest.mark.parametrize("text", ["go/tones-shop. com", "https:/tones-shop. com",
                                  "and/or/tones-shop•com"])
def test_a_host_written_apart_after_a_word_and_a_slash(text: str) -> None:
    assert _blocked(text)


@pytest.mark.parametrize("text", ["x.com/tones-shop. com", "x.com/a/b. com",
                                  "https://x/tones-shop. com"])
def test_a_path_after_a_host_stays_a_path(text: str) -> None:
    """The control (as on main): what the fix must not read."""
    assert view(text).apart_hosts == ()


# 5. The ideographic full stop after a blank: "tones-shop。 com" was read, "tones-shop 。com"
# was not; what the full stop does with blanks around it, the ideographic one does.
@pytest.mark.parametrize("text", ["tones-shop 。com", "tones-shop 。 com"])
def test_an_ideographic_full_stop_after_a_blank(text: str) -> None:
    assert _blocked(text)


# 6. A host written apart before a private suffix (a company's host under which its users'
# hosts are: blogspot.com, github.io) at one mark was not read: "tones-shop. blogspot.com"
# was delivered, "tones-shop. blogspot. com" blocked. "my page. github.io/blog" is prose as
# likely; the guess is the block list's alone (as every host written apart is), so it
# counts only where the operator listed the user's host. Every variant a reader retypes.
@pytest.mark.parametrize("text", [
    "tones-shop. blogspot.com", "tones-shop .blogspot.com", "tones-shop .  blogspot.com",
    "tones-shop.\n\nblogspot.com", "tones-shop\u200b. blogspot.com",
    "tones-shop\uff0e blogspot.com", "tones-shop\u3002 blogspot.com",
    "tones-shop\u2022 blogspot.com", "tones-shop blogspot.com/new",
    "tones-shop, blogspot.com/new", "TONES-SHOP. BLOGSPOT.COM",
    # A capital starts a sentence ("man. My" stays prose); a name with a dot after the
    # mark is a host's however it is written.
    "tones-shop. Blogspot.com", "visit tones-shop. Blogspot.Com/new",
])
def test_a_host_written_apart_before_a_private_suffix(text: str) -> None:
    assert _blocked(text)


def test_a_company_host_listed_whole_is_not_read_from_the_word_before_it() -> None:
    """The control (as on main): an operator who lists a company's host whole (github.io,
    blogspot.com) blocks its users' hosts typed, and written apart where a join holds the
    listed name ("tones-shop. blogspot. com"), not prose's last word before the company's
    host: the guess's names looked up are those that hold a join (``apart_tails``)."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["github.io", "blogspot.com"])])
    for n, prose in enumerate(("lol. github.io is down", "my page. github.io/blog",
                               "see you. blogspot.com")):
        assert codes(engine, prose, id=f"p{n}") == set(), prose
    for n, spam in enumerate(("tones-shop. blogspot. com", "https://tones-shop.github.io/x")):
        assert "LINK_BLOCKLISTED" in codes(engine, spam, id=f"s{n}"), spam


def test_a_host_written_apart_names_its_joins() -> None:
    seen = view("lol. github.io, tones-shop. blogspot. com and said. tones-shop. com")
    assert dict(zip(seen.apart_hosts, seen.apart_tails, strict=True)) == {
        "lol.github.io": 2, "tones-shop.blogspot.com": 1, "blogspot.com": 1,
        "said.tones-shop.com": 1, "tones-shop.com": 1}
    assert lists.apart_suffixes("lol.github.io", 2) == ("lol.github.io",)


# Open: by the rule above, a company's host listed whole after one mark.
@pytest.mark.xfail(strict=True, reason=(
    "the operator lists duckdns.org whole; 'tones-shop. duckdns.org' is read as "
    "tones-shop.duckdns.org, and duckdns.org was written, not joined: it is what "
    "'lol. github.io is down' is (none of the 22,682 corpus messages holds such a guess)"))
def test_a_company_host_listed_whole_after_one_mark() -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["duckdns.org"])])
    assert "LINK_BLOCKLISTED" in codes(engine, "tones-shop. duckdns.org")


# 7. An IDN host past IDNA's budget. IDNA (nameprep, punycode: pure Python) costs ~3 µs a
# character, so a message's links written outside ASCII are parsed up to MAX_IDN_CHARS
# (2,048); 500 links "ü<n>.de" (3,889 characters) before the listed host hid it from every
# list. The hosts past the budget are now read in their Unicode form (``host_key``: NFKC
# and case folding, in C), and a list keeps its punycode entries in that form too
# (``lists.parse``): no IDNA, no host skipped.
_DECOYS = " ".join(f"ü{i}.de" for i in range(500))


@pytest.mark.parametrize("link", [
    "bücher-shop.de/x", "BÜCHER-SHOP.DE/x", "https://bücher-shop.de",
    "bu\u0308cher-shop.de/x", "\uff42ücher-shop.de/x", "xn--bcher-shop-9db.de/x",
    "www.bücher-shop.de", "магазин.рф/x", "магазин.xn--p1ai/x", "xn--80aairftm.рф/x",
    "МАГАЗИН.РФ/x",
])
def test_an_idn_host_past_idnas_budget(link: str) -> None:
    assert len(_DECOYS) > MAX_IDN_CHARS
    assert _blocked(f"{_DECOYS} {link}")


def test_an_idn_host_written_apart_past_idnas_budget() -> None:
    """Hosts written apart have a budget of their own: 500 of them before the listed one."""
    assert _blocked(" ".join(f"ü{i}. de" for i in range(500)) + " bücher-shop. de")


def test_an_idn_host_after_64_kib_of_idn_links_costs_what_its_text_does() -> None:
    decoys = " ".join(f"{chr(0x100 + i % 300)}{i}.de" for i in range(6000))
    assert len(decoys.encode()) < 64 * 1024
    started = time.process_time()
    assert _blocked(f"{decoys} магазин.рф/x")
    assert time.process_time() - started < 1.5


@pytest.mark.xfail(strict=True, reason=(
    "an entry keeps its last MAX_IDN_LABELS (4) labels in punycode in both forms (2**4 "
    "forms); one with five, its first written in Unicode and another in punycode past the "
    "budget, matches none of them. Entries name one or two (a name and an IDN suffix)"))
def test_an_idn_host_of_five_idn_labels_written_mixed_past_idnas_budget() -> None:
    engine = links_engine()
    label = "xn--bcher-kva"
    engine.write_state([lists_write("block", lists.parse(f"{label}.{label}.{label}.{label}."
                                                         f"{label}.de", "domains"))])
    link = f"bücher.{label}.{label}.{label}.{label}.de/x"
    assert "LINK_BLOCKLISTED" in codes(engine, f"{_DECOYS} {link}")


def test_a_list_keeps_its_idn_entries_in_every_form() -> None:
    assert lists.parse("xn--80aairftm.xn--p1ai\nxn--zz.com\n", "domains") == [
        "xn--80aairftm.xn--p1ai", "xn--80aairftm.рф", "магазин.xn--p1ai", "магазин.рф",
        "xn--zz.com"]


def test_a_hosts_unicode_form_is_what_its_punycode_decodes_to() -> None:
    """``host_key`` against IDNA itself: a host read as ``read_host`` reads it (cleaned,
    lower case) has the key of what its punycode decodes to, for a sample of every code
    point IDNA accepts (all 973,053 checked once: none differs) and random labels."""
    rng = random.Random(26)
    points = [chr(c) for c in range(0x80, 0x110000, 53) if not 0xD800 <= c <= 0xDFFF]
    labels = [f"a{c}b" for c in points] + ["".join(rng.choice(points) for _ in range(4))
                                          for _ in range(2000)]
    checked = 0
    for label in labels:
        host = unicodedata.normalize("NFKC", label).lower()
        try:
            decoded = idna.ToUnicode(idna.ToASCII(host))
        except UnicodeError:
            continue  # IDNA refuses it: a browser's host parser too, no entry names it
        checked += 1
        assert host_key(host) == host_key(decoded), [hex(ord(c)) for c in label]
    assert checked > 19_000
