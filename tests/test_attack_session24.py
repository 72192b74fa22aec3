"""Red team, session 24: the block list's reading of links, attacked by a spammer who read it.

Each finding is a test: fixed ones fail on main (ca7a710) and pass here; open ones are
``xfail(strict=True)`` with the reason and its numbers. The operator lists
tones-shop.com (and, for the hosts under a company's suffix, tones-shop.blogspot.com).
"""

from __future__ import annotations

import time

import pytest

from spimguard import lists
from spimguard.text import view
from test_links import codes, links_engine, lists_write

_LISTED = ["tones-shop.com", "tones-shop.blogspot.com", "xn--bcher-shop-9db.de"]


def _blocked(text: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", _LISTED)])
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
    started = time.perf_counter()
    assert _blocked("a." * 8000 + "tones-shop.com")
    assert _blocked("https://" + "a." * 8000 + "tones-shop.com/x")
    assert time.perf_counter() - started < 1.5
