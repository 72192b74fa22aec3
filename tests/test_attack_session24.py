"""Red team, session 24: the block list's reading of links, attacked by a spammer who read it.

Each finding is a test: fixed ones fail on main (ca7a710) and pass here; open ones are
``xfail(strict=True)`` with the reason and its numbers. The operator lists
tones-shop.com (and, for the hosts under a company's suffix, tones-shop.blogspot.com).
"""

from __future__ import annotations

import time

from spimguard import lists
from test_links import codes, links_engine, lists_write

_LISTED = ["tones-shop.com", "tones-shop.blogspot.com", "xn--bcher-shop-9db.de"]


def _blocked(text: str) -> bool:
    engine = links_engine()
    engine.write_state([lists_write("block", _LISTED)])
    return "LINK_BLOCKLISTED" in codes(engine, text)


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
