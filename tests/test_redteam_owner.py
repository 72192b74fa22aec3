"""Red team of the owner and mutual-contacts bounds: what an attacker who read the code does.

Each test asserts the behaviour wanted; those the code does not yet meet are marked
``xfail(strict=True)`` with the reason, so fixing one turns it into a plain regression test.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine
from test_takeover import OFFICIAL, delivered_before_containment, engine_with_history, mutual

# Words the content model holds on their own (~9 points, not the 12 that block), a pitch
# with no link: a wallet address and a handle to write to instead. (The model shipped
# since scores the first version, "Earn 500$ a day ... Send 0.01 BTC", at ~6: a warning
# on its own, from anyone; ``test_the_scam_holds_on_its_words`` checks the premise.)
SCAM = ("Congratulations! You've been selected for a guaranteed investment return of 300% "
        "in 7 days. Send your deposit to bitcoin wallet "
        "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh, contact @cryptoking_{i} on Telegram")
EVIL_IP = "203.0.113.9"


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def actions(verdicts: list[Any]) -> str:
    """One letter a verdict (d/w/h/b), for the assertion messages."""
    return "".join(v.action[0] for v in verdicts)


def test_the_scam_holds_on_its_words() -> None:
    """The premise of the tests below: from an account with no ties to the recipient,
    the words alone hold (and do not block), so a warning means a bound let them through."""
    engine = open_engine(config())
    for i in range(5):
        verdict = engine.process(message(engine.config, f"w{i}", f"nobody{i}", [f"x{i}"],
                                         SCAM.format(i=i), T0 + i))
        assert verdict.action == "hold", verdict.signals


def warm_up(engine: Engine, account: str, ip: str, first: float) -> None:
    """The intruder's first session: three bland lines to the friends the owner writes to
    every day (no burst: they are not dormant ties), delivered clean, which teach the
    profile that the account 'wrote from' the intruder's network."""
    cfg = engine.config
    engine.process(event(cfg, type="login", id=f"{account}-warm", ts=first, account=account,
                         session="warm", ip=ip, client={"id": "im-android"}))
    for i in range(3):
        engine.process(message(cfg, f"{account}-warm{i}", account, [f"{account}-friend{i}"],
                               "hey, how are you doing?", first + 60 + i, session="warm",
                               client={"id": "im-android", "ip": ip}))


def intruder_login(engine: Engine, account: str, ip: str, ts: float,
                   session: str = "evil") -> None:
    engine.process(event(engine.config, type="login", id=f"{account}-{session}", ts=ts,
                         account=account, session=session, ip=ip,
                         client={"id": "im-android"}))


def test_an_intruder_that_warms_up_its_network_is_still_contained() -> None:
    engine = engine_with_history("dave", contacts=60)
    mutual(engine, "dave")
    warm_up(engine, "dave", EVIL_IP, T0 - 3600)
    intruder_login(engine, "dave", EVIL_IP, T0)
    verdicts = [engine.process(message(engine.config, f"scam{i}", "dave", [f"dave-friend{i}"],
                                       SCAM.format(i=i), T0 + 10 + i * 3, session="evil",
                                       client={"id": "im-android", "ip": EVIL_IP}))
                for i in range(3, 40)]
    assert delivered_before_containment(verdicts) <= 6, actions(verdicts)


def test_an_encrypted_burst_after_a_warm_up_is_still_contained() -> None:
    engine = engine_with_history("dave", contacts=60)
    mutual(engine, "dave")
    warm_up(engine, "dave", EVIL_IP, T0 - 3600)
    intruder_login(engine, "dave", EVIL_IP, T0)
    verdicts = [engine.process(event(engine.config, type="message", id=f"sealed{i}",
                                     sender="dave", recipients=[f"dave-friend{i}"],
                                     ts=T0 + 10 + i * 20, encrypted=True, size=300,
                                     session="evil",
                                     client={"id": "im-android", "ip": EVIL_IP}))
                for i in range(3, 60)]
    assert delivered_before_containment(verdicts) <= 6, actions(verdicts)



def test_an_encrypted_burst_spread_under_the_burst_window_is_contained() -> None:
    """Spoofed official app, a network the account never used, no list read, encrypted
    messages of varied sizes, one every 11 minutes: 57 of the account's dormant ties."""
    engine = engine_with_history("dave", contacts=60)
    mutual(engine, "dave")
    intruder_login(engine, "dave", EVIL_IP, T0)
    sizes = [120 + (i * 337) % 1900 for i in range(60)]
    verdicts = [engine.process(event(engine.config, type="message", id=f"slow{i}",
                                     sender="dave", recipients=[f"dave-friend{i}"],
                                     ts=T0 + 10 + i * 660, encrypted=True, size=sizes[i],
                                     session="evil",
                                     client={"id": "im-android", "ip": EVIL_IP}))
                for i in range(3, 60)]
    assert delivered_before_containment(verdicts) <= 10, actions(verdicts)

def slow_scam(engine: Engine, account: str, session: str, ip: str, count: int,
              gap: float) -> list[Any]:
    return [engine.process(message(engine.config, f"{session}-slow{i}", account,
                                   [f"{account}-friend{i}"], SCAM.format(i=i),
                                   T0 + 10 + i * gap, session=session,
                                   client={"id": "im-android", "ip": ip}))
            for i in range(3, 3 + count)]


def test_a_hijacker_spreading_slowly_over_inherited_mutual_contacts_is_held() -> None:
    """Spoofed official app, new network, no list read, no link, one message every 11
    minutes (past the 600 s burst window): only the words are left, and they are a scam."""
    engine = engine_with_history("dave", contacts=60)
    mutual(engine, "dave")
    intruder_login(engine, "dave", EVIL_IP, T0)
    verdicts = slow_scam(engine, "dave", "evil", EVIL_IP, 20, 660.0)
    assert all(v.action in ("hold", "block") for v in verdicts), actions(verdicts)


def test_a_slow_hijacker_without_mutual_contacts_is_held() -> None:
    """The control for the test above: the same slow scam to contacts who do not list the
    account back is held on its words (both before and after the friends change)."""
    engine = engine_with_history("dave", contacts=60)
    intruder_login(engine, "dave", EVIL_IP, T0)
    verdicts = slow_scam(engine, "dave", "evil", EVIL_IP, 20, 660.0)
    assert all(v.action in ("hold", "block") for v in verdicts), actions(verdicts)



@pytest.mark.parametrize("targets", [20, 200])
def test_a_fresh_bot_claiming_the_official_app_is_held(targets: int) -> None:
    """The plainest spim: a new account claims the official app id, puts its targets on
    its own contact list (nobody lists it back), and sends a pitch without a link."""
    engine = open_engine(config(official_clients=OFFICIAL))
    cfg = engine.config
    marks = [f"mark{i}" for i in range(targets)]
    engine.process(event(cfg, type="contacts", id="bot-c", ts=T0 - 60, account="bot",
                         contacts=marks))
    verdicts = [engine.process(message(cfg, f"bot{i}", "bot", [m], SCAM.format(i=i),
                                       T0 + 10 + i, session="s",
                                       client={"id": "im-android", "ip": "198.18.0.1"}))
                for i, m in enumerate(marks)]
    assert all(v.action in ("hold", "block") for v in verdicts), actions(verdicts)

def test_a_fresh_bot_added_back_by_its_targets_is_still_held() -> None:
    engine = open_engine(config(official_clients=OFFICIAL))
    cfg = engine.config
    targets = [f"mark{i}" for i in range(20)]
    engine.process(event(cfg, type="contacts", id="bot-c", ts=T0 - 3600, account="bot",
                         contacts=targets))
    for t in targets:  # each accepted the bot's contact request: they list it back
        engine.process(event(cfg, type="contacts", id=f"{t}-c", ts=T0 - 1800, account=t,
                             contacts=["bot"]))
    engine.process(event(cfg, type="login", id="bot-l", ts=T0, account="bot", session="s",
                         ip="198.18.0.1", client={"id": "im-android"}))
    verdicts = [engine.process(message(cfg, f"bot{i}", "bot", [t], SCAM.format(i=i),
                                       T0 + 10 + i * 660, session="s",
                                       client={"id": "im-android", "ip": "198.18.0.1"}))
                for i, t in enumerate(targets)]
    assert all(v.action in ("hold", "block") for v in verdicts), actions(verdicts)


def test_the_owners_phone_greeting_everyone_from_a_new_network_is_challenged_not_suspended(
        ) -> None:
    """The innocent side: the owner's own phone on a mobile network it never wrote from,
    a bland greeting to all its contacts. It cannot be told from an intruder spoofing the
    app (the test above), so friends holds it (ACCOUNT_BURST_UNPITCHED) where main
    delivered; what must never happen is a suspension of the owner. What the hold asks is
    the owner's challenge of that session, which the owner passes and which releases the
    held greetings (``test_challenge.py``)."""
    engine = engine_with_history("erin", contacts=60)
    mutual(engine, "erin")
    intruder_login(engine, "erin", "100.70.8.9", T0, session="mobile")
    verdicts = [engine.process(message(engine.config, f"ny{i}", "erin", [f"erin-friend{i}"],
                                       "Happy new year!! all the best for 2027", T0 + 10 + i,
                                       session="mobile",
                                       client={"id": "im-android", "ip": "100.70.8.9"}))
                for i in range(60)]
    print("owner greeting from a new network:", actions(verdicts))
    assert {(v.account_action.action, v.account_action.session) for v in verdicts} <= {
        ("none", ""), ("challenge", "mobile")}
    assert all(v.account_action.action == "challenge" for v in verdicts if v.action == "hold")
