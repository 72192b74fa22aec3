"""Session 34: links a reader follows that the text reader missed (``links34``).

Each measured on main (4d77fe9, ``/work/wt/base``) first, where each test here fails:

- A link's host ran to the next blank: a closing emphasis mark between the host and the
  path ("*https://tones-shop.com*/x") was read as the host "tones-shop.com*", bold brackets
  ("*(https://tones-shop.com)*") as "tones-shop.com)*", and markdown's link with the link
  as its label ("[https://tones-shop.com](https://tones-shop.com)") as no link at all. No
  registrable host holds "]|^<>[" (WHATWG URL refuses them in a host) or "*~" (LDH), nor
  ends with '_': a link's authority ends at them, where a linkifier's host ends
  (``text._AUTHORITY``); the whole run is still read too when its host lies under a public
  suffix, as a browser given it reads it (``text._run_on``).
- An enclosing mark (a circle drawn around a letter) inside a label ended it: the host of
  "tones\\u20dd-shop.com" was "-shop.com", "tones-shop\\u20dd.com" none. Drawn around a letter,
  it is no part of its spelling: the label holds it and the host is read without it.
- Chinese "点" / "點" and Japanese "ドット" for the dot, written without blanks between two
  Latin labels ("tones-shop点com"): no guess for the block list.

Left open: UAX #9's reordering of runs by level (``test_review33a``'s strict xfail).
"""

from __future__ import annotations

import pytest

from spimguard.text import view
from test_review33a import DENIED, blocked


@pytest.mark.parametrize("written", [
    # A mark no host holds ends it (main: the host "tones-shop.com*", and so on).
    f"see *https://{DENIED}*/x now", f"see _https://{DENIED}_?q=1 now",
    f"see ~https://{DENIED}~/x now", f"see https://{DENIED}^/x now",
    # Markdown's link and bold brackets (main: no link, "tones-shop.com)*").
    f"see [https://{DENIED}](https://{DENIED}) now", f"see *(https://{DENIED})* now",
    f"see **[https://{DENIED}](https://{DENIED})**", f"see [https://{DENIED}][1] now",
    # An enclosing mark inside a label (main: "-shop.com" for the first, no link for the
    # others): drawn around a letter, no part of its spelling.
    "see tones\u20dd-shop.com/x now", f"see {DENIED.replace('.', chr(0x20dd) + '.')} now",
    "see https://tones-sh\u20e3op.com now",  # a keycap around its "h"
])
def test_a_denied_host_is_read_where_its_reader_ends_it(written: str) -> None:
    assert [url.host for url in view(written).urls] == [DENIED]
    assert blocked(written)


def test_a_host_after_a_mark_no_host_holds_is_read_too() -> None:
    """main read only "good.com*evil.com", a host under no registry's rules: the reader sees
    a bold link to good.com and then evil.com/x, and both are checked. A browser given the
    whole run "https://good.com*.evil.com/x" goes to a host under evil.com (its owner's
    wildcard DNS may answer it): that reading is kept beside the reader's."""
    assert {"good.com", "evil.com"} <= {
        url.host for url in view("look *https://good.com*evil.com/x").urls}
    assert [url.domain for url in view("see https://good.com*.evil.com/x").urls] == [
        "good.com", "evil.com"]


def test_an_underscore_inside_a_host_stays_and_one_at_its_end_goes() -> None:
    """A subdomain may hold '_' ("my_site.blogspot.com"); no suffix ends with one (main:
    "my_site.blogspot.com_")."""
    url, = view("_https://my_site.blogspot.com_/x").urls
    assert url.host == "my_site.blogspot.com"


@pytest.mark.parametrize("written", [
    "请看 tones-shop点com", "請看 tones-shop點com", "こちら tones-shopドットcom",
])
def test_a_denied_host_spelled_with_a_cjk_word_for_the_dot(written: str) -> None:
    assert blocked(written)
    assert view(written).urls == ()  # a guess, never a link
