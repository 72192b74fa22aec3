"""Red team: a domain made "often held" by whoever wants it to be (session 11).

LINK_REPUTATION counts every held or blocked message that carried a domain (``rep:held``),
whoever sent it and whatever held it. So one throwaway bot that sends twenty blatant pitches
carrying a small business's domain (each blocked by its words) gives that domain 0.8 of the
signal's strength (6.4 points) for a week, and the business's own first messages to new
customers, or a friend's on a new phone, are held. No attacker is needed for shared hosts: real
spam through bit.ly is held, and then ordinary posts with a bit.ly link are held with it.

The rule these tests hold the code to: held verdicts are evidence against a link only as
independent voices are (one sender, or one sender's ring, is one voice, as for reports in
``trust.py``), and on shared infrastructure (shorteners, whose path is the destination) only
against the link itself, not its registrable domain (``detectors/reputation.py``). Both
failed before that rule.
"""

from __future__ import annotations

from conftest import T0, config, established, event, message
from spimguard import open_engine
from spimguard.engine import Engine

PITCH = ("FREE entry! WIN a cash prize of $5000, text WIN to 8008{i} or claim now at "
         "http://{site}/claim-prize urgent!!")


def blocked_pitches(engine: Engine, senders: list[str], sites: list[str], ts: float) -> None:
    """A blatant pitch carrying each of ``sites``, from the new account beside it in
    ``senders`` (the same one any number of times), each blocked on its words."""
    cfg = engine.config
    for bot in set(senders):
        engine.process(event(cfg, type="account", id=f"a-{bot}", ts=ts, account=bot,
                             created=ts - 60))
    for i, (bot, site) in enumerate(zip(senders, sites, strict=True)):
        verdict = engine.process(message(cfg, f"p{i}", bot, [f"sock{i}"],
                                         PITCH.format(i=i, site=site), ts + i))
        assert verdict.action in ("hold", "block"), verdict.signals


def first_contact(engine: Engine, text: str, ts: float) -> tuple[str, set[str]]:
    established(engine, "shop", ts=ts - 86_400)
    verdict = engine.process(message(engine.config, "m-shop", "shop", ["new-customer"], text,
                                     ts))
    return verdict.action, {s.code for s in verdict.signals}


def test_one_throwaway_cannot_make_a_shop_domain_often_held() -> None:
    engine = open_engine(config())
    blocked_pitches(engine, ["bot"] * 20, ["marias-bakery.com"] * 20, T0)
    action, codes = first_contact(engine, "hi, the order form is on marias-bakery.com/order",
                                  T0 + 3600)
    assert "LINK_REPUTATION" not in codes  # before: 6.4 points for a week
    assert action == "deliver"


def test_spam_through_a_shortener_does_not_mark_other_short_links() -> None:
    engine = open_engine(config())
    blocked_pitches(engine, [f"bot{i}" for i in range(20)],
                    [f"bit.ly/prize{i}" for i in range(20)], T0)
    action, codes = first_contact(engine, "the slides from today's talk: https://bit.ly/3xTalk",
                                  T0 + 3600)
    assert "LINK_REPUTATION" not in codes
    assert action in ("deliver", "warn")  # LINK_SHORTENER alone is a point
