"""Ways around session 49's merges, found in their review (``review49``): each mended here
with its test (failing on main before the merge and on the merge before the mend), or a
strict xfail whose reason names the gap and what would close it."""

from __future__ import annotations

import pytest

from conftest import T0, event, message
from spimguard import Verdict
from test_evade47 import NAMES, NEIGHBOUR, owner
from test_review47 import PITCH, SHORTCODE

WORM = {"id": "im-android", "ip": NEIGHBOUR}  # the seller's software in the owner's /24


def _pitched(texts: tuple[str, ...], per_session: int, idle: int = 0) -> list[str]:
    """review47's seller from the owner's /24 with the owner's app: 40 pitches 3 s apart
    down the list, a sign-in and a new session every ``per_session``, and ``idle`` more
    sign-ins of new sessions from there right after each (sessions that never write).
    ``texts[i % len(texts)]`` is pitch ``i``. The actions."""
    engine = owner()
    cfg, actions, at = engine.config, list[str](), T0 + 10
    for i in range(40):
        session = f"worm{i // per_session}"
        if i % per_session == 0:
            engine.process(event(cfg, type="login", id=f"L{i}", ts=at - 2, account="alice",
                                 session=session, ip=NEIGHBOUR, client={"id": WORM["id"]}))
            for k in range(idle):
                engine.process(event(cfg, type="login", id=f"I{i}-{k}", ts=at - 1 + k / 100,
                                     account="alice", session=f"idle{i}-{k}", ip=NEIGHBOUR,
                                     client={"id": WORM["id"]}))
        verdict = engine.process(message(
            cfg, f"w{i}", "alice", [f"alice-friend{i}"],
            texts[i % len(texts)].format(name=NAMES[i % len(NAMES)], i=i), at,
            session=session, client=WORM))
        assert isinstance(verdict, Verdict)
        actions.append(verdict.action)
        at += 3
    return actions


# -- bcast49: the broadcast counted over the account's familiar sessions ------------------

def test_a_rotated_broadcast_whose_sign_ins_crowd_the_record_is_warned() -> None:
    """bcast49 counts the burst over the sessions the takeover record keeps (at most
    ``max_sessions``, 8), and a sign-in is the client's to make: seven sessions signed in
    from the owner's /24 after each pitching one, never writing, push every earlier
    pitching session out of the record, and each is counted alone again (three people):
    40 of 40 delivered on bcast49's merge (main: 40). Every session the record keeps
    having written within the window is the one state in which one that wrote there can
    have been dropped (``Record.crowded``): then the count is not whole, and
    FAMILIAR_SENDER, which vouches on it, is withheld."""
    actions = _pitched(PITCH, 3, idle=7)
    assert actions.count("deliver") <= 6, actions
    assert "hold" not in actions and "block" not in actions


# -- code49: a number that bills whoever answers it is the pitch's site -------------------

DECOYS = ("airbnb.com", "amazon.com", "apple.com", "bbc.co.uk", "bing.com", "cnn.com",
          "ebay.com", "etsy.com", "facebook.com", "github.com", "google.com", "imdb.com",
          "linkedin.com", "netflix.com")  # popular sites, each named before "sms:" sorts
DECOYED = tuple(SHORTCODE[i % 3] + f" (better than {DECOYS[i % len(DECOYS)]})"
                for i in range(3 * len(DECOYS)))


def test_a_short_code_beside_a_popular_site_varied_per_pitch_is_an_advert() -> None:
    """code49 counts the people given the pitch (``burst.calling``: ``Plan.text_to``), and
    the pitch's set was named by the least of the message's sites (``keys.pitch``), the
    number among them: a popular site named beside the short code, another each pitch
    ("(better than amazon.com)"), sorts before "sms:" and made each pitch a site of its
    own: 16 of 40 delivered on code49's merge (3 without the decoy; main 40). The number
    is what the seller leases, the domain beside it costs nothing: a message naming a
    number that bills is counted under it."""
    actions = _pitched(DECOYED, 40)
    assert actions.count("deliver") <= 6, actions


CROWDED_NUMBER = ("the rotated short code with seven idle sign-ins after each pitching session's: "
                  "the record crowded (Record.crowded), FAMILIAR_SENDER is withheld, but the "
                  "pitching sessions' sets went with their entries, so PREMIUM_BROADCAST counts "
                  "this session's three people: its words warn 13 of 40, 27 delivered (main: "
                  "40). What would close it is a count of the number over the account that no "
                  "session id names: a set keyed by the number, written only by a message naming "
                  "one (a new stored set, its upgrade entry and its cost), not a read (review49)")


@pytest.mark.xfail(strict=True, reason=CROWDED_NUMBER)
def test_a_rotated_short_code_whose_sign_ins_crowd_the_record_is_an_advert() -> None:
    actions = _pitched(SHORTCODE, 3, idle=7)
    assert actions.count("deliver") <= 6, actions


REWORDED = ("code49's extractor (text._SHORT_CODE, text.premium) reads a closed form: a verb "
            "of text/txt/sms/send/reply, up to three words, 'to', '2' or 'on', then the code's "
            "4-6 digits unbroken; a premium line's digits as digits. The seller rewords and "
            "the reader still reads it: 40 of 40 delivered with FAMILIAR_SENDER, on main as on "
            "code49. A wider form (any verb, a code in groups, no verb) reads the owner's own "
            "figures ('room 1234', 'Happy 2027') as addresses; what would close it is a content "
            "cue the model learns for premium calls to action, or recipients' reports "
            "(review49)")


@pytest.mark.parametrize("said", [
    "msg TONES to 80888", "TONES to 80888", "text TONES to 80 888",
    "text the word TONES right now to 80888", "call O906 555 0143"])
@pytest.mark.xfail(strict=True, reason=REWORDED)
def test_a_reworded_short_code_is_an_advert(said: str) -> None:
    actions = _pitched(("hey {name} " + said + " for the funniest alert sounds lol",), 40)
    assert actions.count("deliver") <= 6, actions
