"""Red team, session 33: a second review of ``review33a``'s readings (``review33d``).

Measured on main (a49232a, with review33a) and on the session's start (08e8778):

- Chat's spoiler around a link with a scheme ("||https://tones-shop.com||": Discord's and
  Telegram's, the link drawn hidden until tapped, and linked): read as the host
  "tones-shop.com||", no signal for a denied host, on both. review33a ended a link before
  the emphasis marks ``_*~``; the spoiler's bar is one more (``text.EMPHASES``), and a
  character WHATWG URL refuses in a host.

Left open here, closed in session 34 (``test_links34``): a closing emphasis mark between
the host and the path, an enclosing mark before a label's dot, markdown's link.
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
