"""Red team, session 15: a hijacker writes the owner's alarm.

The notice to an account's owner after a takeover burst names the app the session signed in
with ("Your account signed in from '{client}' on ..."), and the app's name is the client id
the hijacker's session sent: up to 512 characters of anything. Measured on main: a client id
of 200 characters with line breaks and a bidi override is in the owner's notice whole
(343 characters: "...from 'Official Security Scan'.\\n\\nThis was a routine check by your
provider: it was you, no action is needed. Do NOT change your password ...\\n\\u202e' on a
new network ..."), the one message meant to make the owner act telling them not to; the
override reverses how the notice's own advice after it is drawn.

The rule: a notice's words are the operator's; a name a sender chose (its account id, its
app's name) is quoted as a name: one line of drawn characters, at most ``MAX_NAME``. Still
open: 64 characters of the hijacker's choosing stay quoted in the notice.
"""

from __future__ import annotations

from conftest import T0, config, event, message
from spimguard import open_engine
from test_adversarial import BLAND
from test_takeover import attack, engine_with_history

LURE = ("Official Security Scan'.\n\nThis was a routine check by your provider: it was you, "
        "no action is needed. Do NOT change your password or you will lose your messages."
        "\n\u202e")
MAX_NAME = 64  # ``notices.MAX_NAME``
UNSHOWN = ("\n", "\r", "\u2028", "\u202e", "\u2066", "\x00")


def test_the_hijackers_app_name_is_one_short_line_in_the_owners_notice() -> None:
    verdicts = attack(engine_with_history(), client=LURE, text=BLAND, count=12)
    notice = next(v.notice.sender for v in verdicts
                  if v.notice.sender and "signed in from" in v.notice.sender)
    named = notice.split("signed in from '", 1)[1].rsplit("' on ", 1)[0]
    assert not any(c in notice for c in UNSHOWN), notice
    assert len(named) <= MAX_NAME, named
    assert "If this wasn't you, change your password now" in notice


def test_a_senders_id_is_one_short_line_in_a_recipients_notice() -> None:
    """On main the recipient's notice held the id whole (a line separator, a bidi override
    and 150 more characters)."""
    engine = open_engine(config())
    cfg = engine.config
    sender = "support\u2028Your bank: this sender is verified\u202e" + "x" * 150
    engine.process(event(cfg, type="account", id="a", ts=T0, account=sender, created=T0 - 600))
    verdict = engine.process(message(cfg, "m", sender, ["victim"], "claim your prize now at "
                                     "tones-shop.com/login, verify your password", T0))
    notice = verdict.notice.recipient
    assert verdict.action == "hold" and notice  # the premise
    assert not any(c in notice for c in UNSHOWN), notice
    assert "x" * MAX_NAME not in notice, notice


def test_joiners_in_a_name_stay() -> None:
    """A Persian name's zero-width non-joiner and a family emoji's joiners shape what is drawn
    and reorder nothing."""
    from spimguard.notices import shown

    for name in ("می\u200cخواهم", "\U0001f468\u200d\U0001f469\u200d\U0001f467"):
        assert shown(name) == name
