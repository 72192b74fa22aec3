"""Red team, session 33: a second review of ``review33a``'s readings (``review33d``).

Measured on main (a49232a, with review33a) and on the session's start (08e8778):

- Chat's spoiler around a link with a scheme ("||https://tones-shop.com||": Discord's and
  Telegram's, the link drawn hidden until tapped, and linked): read as the host
  "tones-shop.com||", no signal for a denied host, on both. review33a ended a link before
  the emphasis marks ``_*~``; the spoiler's bar is one more (``text.EMPHASES``), and a
  character WHATWG URL refuses in a host.

Left open (strict xfails, with the numbers): a closing emphasis mark between the host and
the path, an enclosing mark before a label's dot.
"""

from __future__ import annotations

import pytest

from spimguard.text import view
from test_review33a import DENIED, blocked


@pytest.mark.parametrize("written", [
    f"see ||https://{DENIED}|| now", f"see ||http://{DENIED}||.", f"||https://{DENIED}||",
])
def test_a_denied_link_in_a_spoiler_is_blocked(written: str) -> None:
    assert blocked(written)


def test_a_link_in_a_spoiler_keeps_the_bars_of_its_query() -> None:
    """A query may hold '|' ("family=Roboto|Lato"): only the spoiler's closing bars go."""
    url, = view(f"||https://{DENIED}/css?family=A|B||").urls
    assert (url.host, url.query) == (DENIED, "family=A|B")


@pytest.mark.xfail(strict=True, reason=(
    "a closing emphasis mark between the host and the path ('*https://tones-shop.com*/x', "
    "'_https://tones-shop.com_?q=1'): the host read is 'tones-shop.com*' (so on 08e8778 "
    "and on main a49232a), no signal for a denied host. No browser opens that host (no DNS "
    "name holds '*'), so only a reader's retype is at stake, and only if a client draws the "
    "marks as emphasis when a '/' follows them (not measured here: no client on the "
    "machine). Candidate: a link opened after an emphasis mark ends its host at the same mark"))
def test_a_closing_emphasis_mark_before_the_path_is_no_part_of_the_host() -> None:
    assert blocked(f"see *https://{DENIED}*/x now")


@pytest.mark.xfail(strict=True, reason=(
    "an enclosing mark before a label's dot ('tones-shop\\u20dd.com', a circle around the "
    "'p'): main a49232a reads no link at all (the label stops at the mark, and '.com' alone "
    "is no host); 08e8778 read xn--tones-shop-fo8e.com, which no registry sells (IDNA 2008 "
    "disallows U+20DD). Neither signals the denied tones-shop.com its reader retypes; the "
    "same door as test_review33a's enclosing mark inside a label"))
def test_a_denied_host_with_an_enclosing_mark_before_its_dot_is_blocked() -> None:
    assert blocked(f"see {DENIED.replace('.', chr(0x20dd) + '.')} now")


@pytest.mark.xfail(strict=True, reason=(
    "a link with a scheme after a mark a link may hold, inside emphasis or markdown's link: "
    "'[https://tones-shop.com](https://tones-shop.com)' (Element's markdown draws the label, "
    "links the target) reads no link at all, '*(https://tones-shop.com)*' the host "
    "'tones-shop.com)*': no signal for a denied host, on 08e8778 and on main a49232a. "
    "Candidate: a host ends at a character WHATWG URL refuses in one (']', '|', '^', '<', "
    "'>') and the brackets' and emphasis' closing marks are read as one run"))
@pytest.mark.parametrize("written", [
    f"see [https://{DENIED}](https://{DENIED}) now", f"see *(https://{DENIED})* now",
])
def test_a_denied_link_in_markdown_s_link_or_bold_brackets_is_blocked(written: str) -> None:
    assert blocked(written)
