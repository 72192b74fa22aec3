"""Red team: text the reader sees that the text view does not (session 11).

``text.clean`` strips a hand-made list of invisible characters. Unicode names the set a
renderer must not show (Default_Ignorable_Code_Point), and twelve assigned code points of it
are missing from the list: U+1BCA0..U+1BCA3 (shorthand format controls) and U+1D173..U+1D17A
(musical beam and phrase controls). One of them after every letter leaves the message as
the reader sees it and turns a pitch the content model blocks into one it warns about.

Links: hosts are read as ASCII dots only, so a link written the way a browser's host parser
(WHATWG URL, UTS #46) still resolves reaches no detector, not even the operator's deny list:
U+3002 and U+FF61 are label separators, a bare dotted quad with a path is what linkifiers
link, and a host of one decimal number is an IPv4 address.

The rules these tests hold the code to: every Default_Ignorable_Code_Point is removed before
anything is matched; a host is read as a browser's host parser reads it. Tests marked
``xfail(strict=True)`` fail today; the fix turns them into regression tests.
"""

from __future__ import annotations

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.text import view

PITCH = "FREE entry! WIN a cash prize of $5000, text WIN to 80086 now, claim your prize today"
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt) that are assigned and that
# ``text.clean`` keeps.
KEPT_IGNORABLES = [*range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B)]


def behind_every_letter(text: str, mark: str) -> str:
    return "".join(c + mark if c.isalpha() else c for c in text)


@pytest.mark.xfail(strict=True, reason="text.clean strips a hand-made list, not every "
                   "Default_Ignorable_Code_Point")
@pytest.mark.parametrize("point", KEPT_IGNORABLES, ids=lambda p: f"U+{p:04X}")
def test_default_ignorable_characters_are_not_read(point: int) -> None:
    disguised = view(behind_every_letter(PITCH, chr(point)))
    plain = view(PITCH)
    assert (disguised.skeleton, disguised.fingerprint) == (plain.skeleton, plain.fingerprint)


@pytest.mark.xfail(strict=True, reason="U+1D173 after every letter: block becomes warn")
def test_a_pitch_behind_ignorable_characters_is_judged_as_the_pitch() -> None:
    engine = open_engine(config())
    cfg = engine.config
    verdicts = []
    for i, text in enumerate([PITCH, behind_every_letter(PITCH, "\U0001d173")]):
        engine.process(event(cfg, type="account", id=f"a{i}", ts=T0, account=f"bot{i}",
                             created=T0 - 600))
        verdicts.append(engine.process(message(cfg, f"m{i}", f"bot{i}", [f"stranger{i}"],
                                               text, T0 + i)))
    assert verdicts[0].action == "block"  # the premise
    assert verdicts[1].action == "block", verdicts[1].signals


@pytest.mark.xfail(strict=True, reason="hosts are split on ASCII dots only, and neither a "
                   "bare dotted quad nor a one-number IPv4 host is read as a link")
@pytest.mark.parametrize(("written", "domain"), [
    ("tones-shop\u3002com/new", "tones-shop.com"),
    ("tones-shop\uff61com/new", "tones-shop.com"),
    ("95.141.32.7/login", "95.141.32.7"),
    ("http://1603084295/login", "95.141.32.7"),
])
def test_links_are_read_as_a_browser_reads_them(written: str, domain: str) -> None:
    assert domain in view(f"new ringtones every week: {written}").domains
