"""Session 38, ``hot38``: a notice's printable values skip the substitution (``shown``).

A speed change (every verdict as before), so the tests hold the fast way to the answer
the substitution gave, on hostile values: controls, separators, bidi and zero-width
characters, unassigned and private-use code points, lone surrogates, 64 KiB values. They
pass on main as on the branch; the last two fail with the fast path broken on purpose
(every value taken as printable).
"""

from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spimguard import notices

# What a sender may write that a notice must not show, beside what it may keep: controls,
# line and paragraph separators, bidi controls, the annotation controls, a private-use
# and an unassigned character, a lone surrogate; no-break and ideographic spaces, joiners.
HOSTILE = (
    "\x00\t\n\r\x1b\x7f\x85\u2028\u2029\u202a\u202e\u2066\u2069\u200e\u061c"
    "\ufff9\ufffa\ufffb\ue000\U000f0000\u0378\U000e0080\ud800\udfff"
    "\u00a0\u3000\u200b\u200c\u200d\ufeff\u2060 "
)
NAMES = st.text(st.sampled_from(HOSTILE) | st.characters(codec=None), max_size=200)


def _shown_by_substitution(value: str, limit: int | None) -> str:
    """``notices.shown`` as main spelt it: every value through the substitution."""
    line = " ".join(notices._UNSHOWN.sub(" ", value).split())
    if limit is not None and len(line) > limit:
        return line[: limit - 1].rstrip() + "…"
    return line


def test_no_printable_character_is_one_a_notice_takes_out() -> None:
    """The premise of the fast path: ``str.isprintable`` says no to every character of
    ``_UNSHOWN``'s classes, in the ``regex`` module's Unicode as in Python's."""
    printable = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable())
    assert len(printable) > 100_000  # the premise's premise: Unicode's assigned letters
    assert notices._UNSHOWN.search(printable) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAMES, st.sampled_from([None, 1, 2, notices.MAX_NAME]))
def test_a_value_is_shown_as_the_substitution_showed_it(value: str, limit: int | None) -> None:
    assert notices.shown(value, limit) == _shown_by_substitution(value, limit)


def test_long_and_hostile_values_are_shown_as_before() -> None:
    for value in (
        "a" * 65_536,
        ("word \u202e" * 10_000)[:65_536],
        "x\u2028" * 30_000,
        "".join(HOSTILE) * 1_000,
        "plain ascii, all printable: ok!" * 2_000,
    ):
        for limit in (None, notices.MAX_NAME):
            assert notices.shown(value, limit) == _shown_by_substitution(value, limit)
