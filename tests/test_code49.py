"""A pitch with no link: the number that bills whoever answers it is its address (``code49``).

The ringtone seller's software in the owner's /24 with the owner's app (review47's
UNLINKED) sends "text TONES to 80888" down the contact list: a keyword to a short code, or
a premium-rate line, is where the pitch tells its reader to act, as a link's site is
(``text.billing``, ``MessageView.calls``, ``takeover.keys.sites``), and the same one given
to the ties the account had not been writing to within minutes is an advert
(``burst.calling``: PREMIUM_BROADCAST). A person's own number bills nobody, and a friend's
word to two friends is no broadcast. Each test fails on main (the guards by what the view
reads: main's has no ``calls``), but the strict xfail, which names what is left."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import T0, message
from spimguard import Verdict, text
from spimguard.campaigns import contacts_in
from spimguard.records import CampaignMessage
from test_review47 import NAMES, NEIGHBOUR, _from_the_owners_place
from test_takeover import engine_with_history, mutual

HOME = "198.51.100.20"  # ``engine_with_history``'s home, where the owner's "phone" writes


def _calls(written: str) -> tuple[str, ...]:
    return text.view(written).calls


# -- what the view reads ------------------------------------------------------------------

@pytest.mark.parametrize(("written", "calls"), [
    ("hey Sam text TONES to 80888 for the funniest alert sounds lol", ("sms:80888",)),
    ("Txt 'WIN' 2 69696 now!", ("sms:69696",)),
    ("call +44 906 555 0143 for the funniest alert sounds", ("tel:449065550143",)),
    ("ring +44 906 555 0143 or 0044 906 555 0143", ("tel:449065550143",)),
    ("dial +1-900-555-0199 tonight", ("tel:19005550199",)),
    ("text TONES to 80888 or call +44 906 555 0143", ("sms:80888", "tel:449065550143")),
    # a national form names no plan: a UK premium line, a Philippine or a Thai mobile
    ("call 0906 555 0143 for the funniest alert sounds", ()),
    ("my new number is 0917 123 4567, save it", ()),
    ("เบอร์ 0912995507 ไม่สามารถติดต่อคุณได้ 1 ครั้ง", ()),
    # a person's own number bills nobody, nor is a text's first words a short code
    ("Hi everyone, this is my new number: 07700 900007. My old phone was stolen", ()),
    ("call me at 555 0100 when you land", ()),
    ("text me to 0770 0900 007 when you're there", ()),
    ("see you at 8, table for 12345 people lol", ()),
    ("my pin is 1900 and the room is 976", ()),
])
def test_the_view_reads_the_numbers_that_bill_whoever_answers(
        written: str, calls: tuple[str, ...]) -> None:
    assert _calls(written) == calls


def test_a_text_of_digits_names_a_bounded_few() -> None:
    """10,000 digits are no number anyone dials (E.164's 15 at most), and a text naming
    700 short codes is read for its first ``MAX_CALLS``."""
    assert _calls("1" * 10_000) == ()
    assert _calls("0044 906 555 0143 " * 700) == ()  # one run of digits, past 15
    assert _calls("+44 906 555 0143 " * 700) == ("tel:449065550143",)  # each once
    many = " ".join(f"text WIN{i} to {20_000 + i}" for i in range(700))
    assert _calls(many) == tuple(f"sms:{20_000 + i}" for i in range(text.MAX_CALLS))
    assert len(_calls("text TONES to 80888 " * 700)) == 1


def test_the_pitch_names_its_number_as_its_site_and_nothing_else_counts_it() -> None:
    """The takeover detector's sites hold the number; the links' domains, the fingerprint
    and what bulk compares do not (one text with and without it is the same copy)."""
    from spimguard.detectors.takeover import keys
    a = text.view("hey Sam text TONES to 80888 for the funniest alert sounds lol")
    b = text.view("hey Sam text TONES to 80999 for the funniest alert sounds lol")
    assert keys.sites(a) == ("sms:80888",) and a.domains == ()
    assert a.fingerprint == b.fingerprint and a.masked == b.masked
    assert keys.pitch(a) != keys.pitch(b)


def test_the_campaigns_summary_reads_the_number_as_the_view_does() -> None:
    """One pattern of a phone number (``text.PHONE``), read by the campaigns' summary."""
    assert text.PHONE.pattern and contacts_in(["call 0906 555 0143 now"])[0] == ["09065550143"]


# -- the seller's pitch from the owner's place --------------------------------------------

INTERNATIONAL = ("{name}, got my new ringing sound, ring +44 906 555 0143, love it",
                 "hey {name} dial +44 906 555 0143 for the funniest alert sounds lol",
                 "{name}! have you tried these tunes? just call 0044 906 555 0143")
NATIONAL = tuple(t.replace("+44 906", "0906").replace("0044 906", "0906") for t in INTERNATIONAL)
NATIONAL_LEFT = ("a premium line written in its national form names no plan: 0906 555 0143 is a "
                 "UK premium line and a Philippine mobile (and Thailand's 09 numbers are "
                 "mobiles: 17 of the Thai corpus's 886 ordinary texts would name one), so it "
                 "is read only written internationally; which plan the platform serves is the "
                 "operator's to say, a setting not built: 40 of 40 delivered (code49)")
MOBILE = tuple(t.replace("0906 555 0143", "07700 900143") for t in NATIONAL)
MOBILE_LEFT = ("a seller's own mobile number bills nobody: between it and the owner's 'my new "
               "number' to everyone (the simulator's new-number trap) only the words differ, "
               "and they score under warn (CONTENT_SPAM 0 to 0.5 points; FAMILIAR_SENDER "
               "withheld would not lift them): 40 of 40 delivered (code49)")


@pytest.mark.parametrize("texts", [
    pytest.param(INTERNATIONAL, id="a premium-rate line written internationally"),
    pytest.param(NATIONAL, marks=pytest.mark.xfail(strict=True, reason=NATIONAL_LEFT),
                 id="the line in its national form"),
    pytest.param(MOBILE, marks=pytest.mark.xfail(strict=True, reason=MOBILE_LEFT),
                 id="a mobile number")])
def test_the_sellers_number_from_the_owners_place_is_warned(texts: tuple[str, ...]) -> None:
    actions = _from_the_owners_place(texts, 40)
    assert actions.count("deliver") <= 6, actions
    assert "hold" not in actions and "block" not in actions  # the device is still hers


# review47's ROTATED for a number as for a link: the broadcast and its PREMIUM_BROADCAST are
# counted over the account's familiar sessions (bcast49's ``_others``; ``burst.calling``
# weighs ``_broadcast``'s count), so a sign-in every three pitches steps around neither
# (28 of 40 delivered with code49 and bcast49 merged but the advert counted per session).
def test_the_sellers_short_code_from_sessions_rotated_every_three_pitches_is_warned() -> None:
    from test_review47 import SHORTCODE
    assert _from_the_owners_place(SHORTCODE, 3).count("deliver") <= 6


def _owners(engine: Any, ids: str, texts: list[str], people: list[str],
            gap: float = 1.0) -> list[Verdict]:
    """The owner's own phone from home writing ``texts[i]`` to ``people[i]``."""
    cfg, out = engine.config, []
    for i, (line, person) in enumerate(zip(texts, people, strict=True)):
        verdict = engine.process(message(cfg, f"{ids}{i}", "alice", [person], line,
                                         T0 + 10 + gap * i, session="phone",
                                         client={"id": "im-android", "ip": HOME}))
        assert isinstance(verdict, Verdict)
        out.append(verdict)
    return out


def _familiar(verdicts: list[Verdict]) -> list[tuple[str, bool]]:
    return [(v.action, "FAMILIAR_SENDER" in [s.code for s in v.signals]) for v in verdicts]


def test_the_owners_vote_line_to_two_friends_is_hers() -> None:
    """A billing number passed to two friends (a vote line, a charity's code) is a
    friend's word: the view names it, and both are delivered with FAMILIAR_SENDER."""
    engine = engine_with_history()
    mutual(engine, "alice")
    line = "vote for Jo tonight!! text JO to 80888, she's so good"
    assert _calls(line) == ("sms:80888",)
    people = ["alice-friend20", "alice-friend21"]
    assert _familiar(_owners(engine, "v", [line] * 2, people)) == [("deliver", True)] * 2


@pytest.mark.parametrize("line", [
    "call me at 555 0100 when you land, {name}",
    "Hi everyone, this is my new number: 07700 900007. My old phone was stolen, please "
    "save this one! {name}"])
def test_the_owners_own_number_is_no_address(line: str) -> None:
    """The owner's own number names no billing address, to two friends or to twenty of
    the ties she had not been writing to a second apart (the simulator's new-number trap):
    every one delivered with FAMILIAR_SENDER."""
    assert _calls(line) == ()
    engine = engine_with_history()
    mutual(engine, "alice")
    people = [f"alice-friend{i}" for i in range(10, 30)]
    texts = [line.format(name=NAMES[i % len(NAMES)]) for i in range(20)]
    assert _familiar(_owners(engine, "n", texts, people)) == [("deliver", True)] * 20


def test_the_owners_greeting_to_everyone_names_no_address() -> None:
    """A greeting to the whole list, half a second apart (the app's "send to all"), names
    no address: all 60 delivered with FAMILIAR_SENDER, none PREMIUM_BROADCAST."""
    line = "Happy New Year {name}!! all the best for 2027, see you soon x"
    assert _calls(line) == ()
    engine = engine_with_history()
    mutual(engine, "alice")
    people = [f"alice-friend{i}" for i in range(60)]
    texts = [line.format(name=NAMES[i % len(NAMES)]) for i in range(60)]
    assert _familiar(_owners(engine, "g", texts, people, gap=0.5)) == [("deliver", True)] * 60


def test_the_advert_counts_this_number_not_what_the_session_wrote_before() -> None:
    """PREMIUM_BROADCAST asks how many were given this number (``burst.calling``), not how
    many ties the session wrote to: the owner's greeting to 20, then her vote line to two
    friends a minute later, is no advert. It does lose FAMILIAR_SENDER, as a link there
    would (evade47's broadcast counts the session's burst, for a site per pitch), and its
    words (CONTENT_SPAM 5.5) then warn it: never held."""
    line = "vote for Jo tonight!! text JO to 80888"
    assert _calls(line) == ("sms:80888",)
    engine = engine_with_history()
    mutual(engine, "alice")
    people = [f"alice-friend{i}" for i in range(10, 30)]
    _owners(engine, "g", ["Happy New Year!! see you soon x"] * 20, people)
    vote = _owners(engine, "v", [line] * 2, ["alice-friend40", "alice-friend41"], gap=30.0)
    for verdict in vote:
        assert verdict.action in ("deliver", "warn")
        assert "PREMIUM_BROADCAST" not in [s.code for s in verdict.signals]


def test_the_sellers_short_code_is_named_in_the_warning() -> None:
    """Each warned pitch says why: PREMIUM_BROADCAST with the number, past the third."""
    engine = engine_with_history()
    mutual(engine, "alice")
    cfg = engine.config
    said = []
    for i in range(8):
        verdict = engine.process(message(
            cfg, f"alice-w{i}", "alice", [f"alice-friend{10 + i}"],
            f"hey {NAMES[i % 6]} text TONES to 80888 for the funniest alert sounds lol",
            T0 + 10 + 3 * i, session="worm",
            client={"id": "im-android", "ip": NEIGHBOUR}))
        assert isinstance(verdict, Verdict)
        said.append([s.detail for s in verdict.signals if s.code == "PREMIUM_BROADCAST"])
    assert said[:3] == [[], [], []]
    assert all(d and "sms:80888" in d[0] for d in said[3:]), said


# -- the evidence: the short code and its keyword -----------------------------------------

def test_the_campaigns_evidence_lists_the_short_codes_with_their_keywords() -> None:
    """What a legal team asks the carrier about: the short code the campaign advertises,
    and the keyword texted to it (``campaigns.short_codes_in``: the summary's
    ``short_codes``, in ``summary.json`` and ``GET /v1/campaigns/{id}``)."""
    from spimguard import campaigns
    from spimguard.server import openapi
    texts = ["hey Sam text TONES to 80888 for the funniest alert sounds lol",
             "Jo! just txt 'tones' to 80888", "Simply text the password \"MIX\" to 85069",
             "call me at 555 0100"]
    assert campaigns.short_codes_in(texts) == ["80888 TONES", "85069 THE PASSWORD MIX"]
    kept = [CampaignMessage("c1", f"m{i}", T0 + i, "alice", "worm", "im-android", NEIGHBOUR,
                            (f"alice-friend{i}",), line, "warn")
            for i, line in enumerate(texts)]

    class _NoReports:
        def reports(self, _id: str) -> list[Any]:
            return []

    info = campaigns.summary(_NoReports(), "c1", kept)  # type: ignore[arg-type]
    assert info is not None and info["short_codes"][0] == "80888 TONES"
    assert info["phones"] == ["5550100"]  # every number as before, billing or not
    assert "short_codes" in str(openapi.document())


def test_the_short_codes_words_are_read_a_bounded_way() -> None:
    """Each word between the verb and "to" is at most 24 letters with a quote each side
    (``text._SHORT_CODE``): a word of any length ("[...]+" then a blank) made every "text"
    of 'text"text"...' a scan to the end (15,000 characters: 2.1 s). No unbounded run but
    the blanks, which end at the next word; the hostile text is read for what it holds."""
    pattern = text._SHORT_CODE.pattern
    assert re.search(r"\]\+\\s\+", pattern) is None and r"\w{1,24}" in pattern
    assert text.billing('text"' * 3000) == ()
    assert text.billing("text" + '"text' * 3000 + " to 80888") == ("sms:80888",)


def test_a_premium_line_written_in_pairs_is_read() -> None:
    """A number written internationally is read whatever its grouping ("+44 90 65 55 01 43"
    holds no four digits in a row, which only a short code needs)."""
    assert _calls("ring +44 90 65 55 01 43 now") == ("tel:449065550143",)
    assert _calls("ring 0044 90 65 55 01 43 now") == ("tel:449065550143",)
