"""Red team, session 15: a denied host written apart in ways the view does not read (open).

The view reads "tones-shop dot com", "tones-shop .com", "tones-shop(.)com" and
"tones-shop[dot]com" as tones-shop.com, so the operator's deny list blocks them. Measured on
this code, with tones-shop.com on the block list, "ringtones at tones-shop<written>com/new"
gets no signal at all (LINK_BLOCKLISTED missing, delivered) when <written> is a full stop and
a blank (". "), a comma, a bullet (U+2022) or a middle dot (U+00B7): a reader retypes each
as the host. The rule a fix would follow: a well-known suffix after a label, parted from it
by a dot-like mark and a path after it ("/new"), is a link written apart, as "dot com" is;
prose rarely has a path after a suffix. Open: the reading
belongs in ``text``'s spaced-dot pass, whose hint would then fire on every ". " of prose,
and every corpus text's view and both verdict hashes must be checked again.
"""

from __future__ import annotations

import pytest

from test_links import codes, links_engine, lists_write

OPEN = pytest.mark.xfail(strict=True, reason=(
    "a denied host written 'tones-shop. com/new', 'tones-shop,com/new', 'tones-shop•com/new' "
    "or 'tones-shop·com/new' gets no LINK_BLOCKLISTED (no signal, delivered); "
    "'tones-shop .com/new' and 'tones-shop dot com/new' are blocked"))


@pytest.mark.parametrize("written", [
    " .", " dot ", "(.)",
    pytest.param(". ", marks=OPEN), pytest.param(",", marks=OPEN),
    pytest.param("\u2022", marks=OPEN), pytest.param("\u00b7", marks=OPEN),
])
def test_a_denied_host_written_apart_is_blocked(written: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, f"ringtones at tones-shop{written}com/new")
