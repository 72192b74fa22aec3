"""Red team, session 15: a pitch written in a "fancy text" alphabet.

Generators of "fancy text" (pasted into IM by the copy) write Latin letters as characters
Unicode encodes apart: in a black circle or square (🅕🅡🅔🅔, 🅵🆁🅴🅴), in parentheses
(⒡⒭⒠⒠), as lone regional indicators (🇫 🇷 🇪 🇪, a zero-width character or a blank
keeping each from pairing into a flag) or in small capitals (ꜰʀᴇᴇ). NFKC reads the
outlined circle and square (Ⓕ, 🄵) as the letter, but has no decomposition for the black
ones and makes "(f)" of a parenthesized one; TR39's confusables map a few small capitals
and not ꜰ, ʀ or ᴇ. A reader reads each as its letter, so the content model should too.

Measured on main (a days-old account's first message to a stranger, the pitch below
blocked as written): black circles warn (CONTENT_SPAM 4.6), black squares warn (4.7),
regional indicators warn (5.0), parenthesized letters are delivered (2.5), small capitals
are held, not blocked (7.1). The rule: a character Unicode names as a Latin letter in a
frame ("NEGATIVE CIRCLED LATIN CAPITAL LETTER F", "PARENTHESIZED LATIN SMALL LETTER F") is
that letter; a regional indicator with no partner is its letter, and two that pair are a
flag. Session 16 closed small capitals: a character Unicode names "LATIN LETTER SMALL
CAPITAL R" is R in the skeleton (phonetic notation writes ʀ, ɪ, ʏ as sounds of their own,
so the text keeps them). It moved the view of four Thai spam texts the content model
trains on ("ʀɪᴄʜ ᴘᴀʀᴋ", "ʟᴀsᴛ ᴅᴇᴀʟ"), so the model was retrained with it.
"""

from __future__ import annotations

import pytest

from spimguard.text import view
from test_attack_parted_letters import PITCH, first_messages

SMALL_CAPITALS = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ", strict=True))


def _letters_from(first: int, *, joiner: str = ""):  # type: ignore[no-untyped-def]
    def write(text: str) -> str:
        return "".join(chr(first + ord(c.upper()) - ord("A")) + joiner
                       if c.isascii() and c.isalpha() else c for c in text)
    return write


STYLES = {
    "black circles": _letters_from(0x1F150),
    "black squares": _letters_from(0x1F170),
    "parenthesized": _letters_from(0x1F110),
    "parenthesized small": lambda t: "".join(
        chr(0x249C + ord(c.lower()) - ord("a")) if c.isascii() and c.isalpha() else c
        for c in t),
    "regional indicators apart": _letters_from(0x1F1E6, joiner="\u200c"),
}
STYLES["small capitals"] = lambda t: "".join(SMALL_CAPITALS.get(c.lower(), c) for c in t)
CASES = list(STYLES)


@pytest.mark.parametrize("style", CASES)
def test_a_letter_in_a_frame_is_read_as_the_letter(style: str) -> None:
    written = view(STYLES[style](PITCH))
    assert written.skeleton == view(PITCH).skeleton


@pytest.mark.parametrize("style", CASES)
def test_a_pitch_in_fancy_letters_is_judged_as_the_pitch(style: str) -> None:
    assert first_messages([PITCH, STYLES[style](PITCH)]) == ["block", "block"]


@pytest.mark.parametrize("text", [
    "see you in 🇫🇷 next week 🇪🇸 after",  # two flags
    "🇺🇸🇬🇧🇩🇪 all three",  # a run of flags
    "the 🆕 menu and 🆗 sign",  # squared words, no letters
    "options (a) and (b)",  # written parentheses stay
])
def test_flags_and_ordinary_symbols_are_not_letters(text: str) -> None:
    assert view(text).text == text


def test_an_odd_regional_indicator_after_a_flag_is_its_letter() -> None:
    assert view("🇫🇷🇪 x").text == "🇫🇷E x"


@pytest.mark.parametrize(("written", "read"), [
    ("ʀɪᴄʜ ᴘᴀʀᴋ", "rich park"),
    ("ᶦɴ", "in"),  # a modifier small capital: NFKC makes it the small capital
    ("\ua7ae\u0280", "ir"),  # LATIN CAPITAL LETTER SMALL CAPITAL I casefolds to ɪ
])
def test_small_capitals_are_their_letters_in_the_skeleton(written: str, read: str) -> None:
    assert view(written).skeleton == read


def test_small_capitals_stay_in_the_text_and_their_variants_are_no_letter() -> None:
    # "ʀ" is a sound of its own in phonetic notation: the text a person reads keeps it.
    assert view("[ʀ]").text == "[ʀ]"
    # SMALL CAPITAL TURNED E and SMALL CAPITAL OU are no Latin letter's small capital.
    assert view("\u2c7b\u1d15").skeleton == "\u2c7b\u1d15"
