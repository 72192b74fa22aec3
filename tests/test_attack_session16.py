"""Red team on session 16's detection changes, read as a spammer who reads the code.

Three defences: hosts written apart with a dot-like mark (``text._apart_links``), small
capitals folded in the skeleton (``text._small_capitals``), and no room concession for a
stranger's session that read the contact list, which this review had withdrawn: the owner's
new XMPP client (which reads the roster at every sign-in) lost its family room, while an
intruder kept it by reading the list in one session and posting from another.
Each attack is a test: passing where the defence holds, a strict xfail with its numbers
where it does not.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, event
from spimguard.text import view
from test_links import codes, links_engine, lists_write
from test_rooms import HELD, MOBILE, alice, friends, post, sign_in

HOTEL = "192.0.2.44"  # a hotel's network, new to the account
DESKTOP = "gajim-1.8"  # a desktop XMPP client the account never used (not the official app)


# 1a. Hosts written apart: forms near a blocked one.

@pytest.mark.parametrize("text", [
    # Held: halfwidth and fullwidth forms, zero-width characters, the midline ellipsis, a
    # hyphen bullet, a degree sign, a line break: each is still read as tones-shop.com.
    "tones-shop \uff65 com/new", "tones-shop\uff0ccom/new", "tones-shop\u200b. com/new",
    "tones-shop. \u200bcom/new", "tones-shop\u22efcom/new", "tones-shop\u2043com/new",
    "tones-shop\u00b0com/new", "tones-shop. com\uff0fnew", "tones-shop. \uff43\uff4f\uff4d/new",
    "TONES-SHOP. COM/NEW", "tones-shop\n. com/new",
    # Evaded until session 17, one character away from a form that was blocked: a blank
    # before the path, a query or a port instead of a path, a bare slash, a blank around a
    # glued mark (a black circle, an emoji), an ideographic full stop with a blank, an
    # ellipsis (NFKC '...'), two full stops, a division or fraction slash for the path's.
    "tones-shop. com /new", "tones-shop. com?new", "tones-shop. com:8080/new",
    "tones-shop. com/ ", "tones-shop \u25cf com/new", "tones-shop \U0001f535 com/new",
    "tones-shop\u3002 com/new", "tones-shop\u2026com/new", "tones-shop.. com/new",
    "tones-shop. com\u2215new", "tones-shop. com\u2044new",
])
def test_near_forms_of_the_written_apart_host_are_blocked(text: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, f"ringtones at {text}")


# 1b. Ordinary prose read as a link ("yes, no/maybe" as yes.no, "ok, now/later?" as ok.now:
# 45 of 57 phrases, forty friends warned, three reports blocked a phrase for everyone):
# closed, the hosts written apart are a guess only the block list reads; the findings are
# plain tests in ``test_apart_links``.


# 2. Small capitals in the skeleton.

def test_phonetic_notation_keeps_its_small_capitals_in_the_text() -> None:
    """IPA writes ʀ, ɪ, ʏ as sounds: the fold is the skeleton's only, the text keeps them,
    and IPA letters that are not small capitals (ʁ) are untouched in both."""
    ipa = "[\u02c8\u0280\u026a\u00e7] [\u028f] [\u0281]"
    seen = view(ipa)
    assert "\u0280" in seen.text and "\u026a" in seen.text and "\u028f" in seen.text
    assert "\u0281" in seen.skeleton


@pytest.mark.parametrize(("fancy", "plain"), [
    ("\ua730\u0280\u1d07\u1d07 \u1d0d\u1d0f\u0274\u1d07\u028f", "free money"),  # ꜰ, ꜱ etc.
    ("\ua731\u1d00\u029f\u1d07", "sale"),
    ("\ua7af\u1d1c\u026a\u1d04\u1d0b", "quick"),  # the small capital Q (Unicode 11)
    ("\u1da0\u02b3\u1d49\u1d49 \u1d50\u1d52\u207f\u1d49\u02b8", "free money"),  # modifiers
    ("\u1d3f\u1d35\u1d9c\u1d34", "rich"),  # modifier capitals
])
def test_small_capitals_and_modifier_forms_read_as_letters(fancy: str, plain: str) -> None:
    assert view(fancy).skeleton == plain


@pytest.mark.parametrize(("fancy", "plain"), [
    # Session 16's red team, closed in session 23: a letter TR39 draws like a Latin small
    # capital (Greek ᴩ like ᴘ), or a small letter whose capital it draws like a Latin one
    # (Cyrillic в, м, т, к, and н drawn like ʜ), in a word otherwise of Latin small capitals.
    ("\u1d29\u0280\u1d0f\u1d0d\u1d0f", "promo"),
    ("\u0432\u1d1c\u028f \u0274\u1d0f\u1d21", "buy now"),
    ("\u043c\u1d0f\u0274\u1d07\u028f", "money"),
    ("\u1d04\u043d\u1d07\u1d00\u1d18", "cheap"),
    ("\u1d1b\u0280\u1d00\u1d04\u043a \u0442\u029c\u026a\u0455", "track this"),
])
def test_small_capitals_of_other_scripts_read_as_letters(fancy: str, plain: str) -> None:
    assert view(fancy).skeleton == plain


@pytest.mark.xfail(strict=True, reason=(
    "red team, session 16, still open: TR39 draws Cyrillic \u0493 like a stroked r (its "
    "capital like a stroked Gamma), not like the small capital F, and \u043d like the small "
    "capital H; a reader of '\u0493\u0280\u1d07\u1d07 \u1d0d\u1d0f\u043d\u1d07\u028f' "
    "guesses 'free money' from the word, which no table of shapes gives"))
def test_small_capitals_drawn_unlike_their_letter() -> None:
    assert view("\u0493\u0280\u1d07\u1d07 \u1d0d\u1d0f\u043d\u1d07\u028f").skeleton == "free money"


@pytest.mark.parametrize("russian", [
    "\u043d\u0435\u0442", "\u0432\u043e\u0442 \u0442\u0430\u043a",
    "\u043a\u043e\u043c\u043d\u0430\u0442\u0430 \u043c\u0430\u043c\u044b",
])
def test_russian_keeps_its_letters_beside_small_capitals(russian: str) -> None:
    """The fold reads a Cyrillic letter as Latin only inside a word of Latin small capitals:
    Russian words, alone or beside such a word, keep в, н, м, т, к ('нет' is no 'het')."""
    alone = view(russian).skeleton
    beside = view(f"\u0280\u026a\u1d04\u029c {russian}").skeleton
    assert beside == f"rich {alone}"
    assert not any(c in alone for c in "bhmtk")
    assert any(c in alone for c in "\u0432\u043d\u043c\u0442\u043a")


@pytest.mark.parametrize("unit", ["\u0432\u1d1c\u028f\u043d ", "\u0432\u1d1c\u028f\u043d",
                                  "\u043d\u0435\u0442 \u1d00 ", "\u1d00" * 40 + "\u043d "])
def test_a_long_text_of_small_capital_words_is_read_in_linear_time(unit: str) -> None:
    """One pass over the words (a look-ahead reads no further than its word): 64 KiB of
    small capitals and Cyrillic, in words or in one run, under a second, and four times the
    text under twelve times the time (``test_text_linear``'s bounds)."""
    import time

    def cost(size: int) -> float:
        text = unit * (size // len(unit.encode()))
        times = []
        for _ in range(3):
            started = time.process_time()
            view(text)
            times.append(time.process_time() - started)
        return min(times)

    small, large = cost(16384), cost(65536)
    assert large < 1.0 and large < 12 * small + 0.1, (small, large)


# 3. The room rule.

def _family_post(read: bool, text: str = "landed, see you all sunday",
                 device: tuple[str, str, str] = ("laptop", HOTEL, DESKTOP)) -> Any:
    """alice's own ``device`` (session, network, app; by default a new laptop: a desktop
    client she never used, at a hotel) posting ``text`` into her family group; an XMPP
    client fetches the roster at sign-in (``read``)."""
    engine = alice({"family": friends(10, 20)})
    session, ip, client = device
    sign_in(engine, session, ip, client)
    if read:
        engine.process(event(engine.config, type="contacts_read", id=f"{session}-read",
                             ts=T0 + 5, account="alice", session=session, count=60))
    return post(engine, f"{session}-1", "family", friends(10, 20), text, T0 + 60, *device)


def test_the_owners_new_laptop_after_a_roster_fetch_is_not_suspended() -> None:
    """Review of the harvest rule (withdrawn): the owner's second device is a stranger by
    the session facts (an app the account never used, on a hotel network) and an XMPP
    client reads the roster at every sign-in; with the rule, 'landed, see you all sunday'
    into her 10-member family group was held with sending suspended."""
    verdict = _family_post(read=True)
    assert verdict.action not in HELD and verdict.account_action.action == "none"


@pytest.mark.parametrize(("read", "text", "device"), [
    (False, "landed, see you all sunday", ("laptop", HOTEL, DESKTOP)),
    (True, "dinner tonight, pizza/pasta?", ("bus", MOBILE, "im-android")),
])
def test_the_owners_devices_keep_the_room(read: bool, text: str,
                                          device: tuple[str, str, str]) -> None:
    """The owner's new laptop with no roster fetch; its official app on mobile data,
    roster fetched, writing a phrase read as a host written apart ('pizza/pasta' after a
    comma: bread.pizza, a guess for the block list only). Both delivered, no account
    action."""
    verdict = _family_post(read, text, device)
    assert verdict.action == "deliver" and verdict.account_action.action == "none"
