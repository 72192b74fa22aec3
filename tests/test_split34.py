"""Red team, session 34 (``split34``): the seller's pitch split from its link.

The founding case's seller pitches each victim's contacts from a session nobody proved
the owner's; ``BULK_UNPROVEN_SESSIONS`` (session 32) holds its words with a site once
other accounts' unproven sessions sent them too. Sent as two messages, the words alone,
then the link alone (too few words to cluster), neither was a message with a site the
rule clusters: 42 of 60 reached on main 4d77fe9 (``test_review33c``'s xfail). To its
reader the two are one utterance (``detectors/turns.py``): the session's site alone is
joined to the words it gave the same recipient just before, and back.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from test_attack_session25 import HOSTING_IP, NAMES, OFFICIAL_APP
from test_attack_session30 import reached, suspended
from test_attack_session32 import PITCHES, SHARED, VICTIMS, _victims
from test_takeover import OFFICIAL, live_a_month

WORDS = "hey {n}! I found cheap ringtones here"
FORMS = {"link": "http://{s}/r", "host": "{s}", "apart": "{h} . biz"}


def split_seller(victims: tuple[str, ...] = VICTIMS, link_first: bool = False,
                 form: str = "link", gap: float = 1, site_session: str = "seller"
                 ) -> list[list[Any]]:
    """The seller signs in to each victim (the official app's id, its server) and gives
    each of 20 friends its pitch as two messages: the words (the friend's name in them),
    then ``gap`` seconds later the site alone (``link_first``: the site, then the words),
    ``form`` a link, the bare host or the host written apart; pitches 3 s apart, victim
    after victim 10 minutes apart (past 3 s, each victim's words all come before their
    sites; ``site_session``: the sites from a second session it signed in to each
    victim, ``review34b``). The verdicts kept are the sites'."""
    engine = _victims(victims)
    cfg = engine.config
    for k, account in enumerate(victims):
        for session in dict.fromkeys(("seller", site_session)):
            engine.process(event(cfg, type="login", id=f"{account}-in-{session}",
                                 ts=T0 - 60 + k, account=account, session=session,
                                 ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    out: list[list[Any]] = [[] for _ in victims]
    for k, account in enumerate(victims):
        start = T0 + k * (600 + 3 * PITCHES + gap)
        halves = []
        for i in range(PITCHES):
            site = FORMS[form].format(s=f"cheap-tones{i}.biz", h=f"cheap-tones{i}")
            at = start + 3 * i
            first, second = (site, WORDS.format(n=NAMES[i % 10])) if link_first else (
                WORDS.format(n=NAMES[i % 10]), site)
            halves += [(at, 0, i, first, link_first), (at + gap, 1, i, second, not link_first)]
        for at, part, i, text, is_site in sorted(halves):
            verdict = engine.process(message(
                cfg, f"{account}-{part}-{i}", account, [f"{account}-friend{3 + i}"], text, at,
                session=site_session if is_site else "seller",
                client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
            if is_site:
                out[k].append(verdict)
    return out


@pytest.mark.parametrize("variant", [
    {}, {"link_first": True}, {"form": "host"}, {"form": "apart"}, {"gap": 30}])
def test_a_pitch_split_from_its_site_is_the_same_hand(variant: dict[str, Any]) -> None:
    """The words, then the site alone 1 s later (or the site first; the bare host; the
    host written apart; 30 s between, so the words of later pitches come between): main
    4d77fe9 14 reached in every victim, 42 of 60; here the first victim's 14 (its
    account's own bound) and 3 in each later one, 20, suspended."""
    first, *later = split_seller(**variant)
    assert reached(first) <= 14
    assert all(reached(verdicts) <= 3 and suspended(verdicts) for verdicts in later)


def test_five_victims_split_pitches() -> None:
    """Five victims: main 4d77fe9 70 of 100; here 26 (14 + 4 × 3)."""
    out = split_seller(("alice", "bob", "carol", "dave", "erin"))
    assert sum(map(reached, out)) <= 26


def new_phones_split_share(engine: Any, accounts: tuple[str, ...]) -> list[Any]:
    """``new_phones_share`` with the share sheet's words and its link as two messages, as
    some apps send them: each owner, on a new phone, a new network of her own, gives two
    friends the words and then the link 2 s later, and writes the first two of them a
    line after. The verdicts of every message."""
    cfg, out = engine.config, []
    words, link = SHARED.rsplit(" ", 1)
    for k, account in enumerate(accounts):
        at, ip = T0 + 300 * k, f"192.0.2.{10 + k}"
        engine.process(event(cfg, type="login", id=f"{account}-np", ts=at - 60,
                             account=account, session="newphone", ip=ip,
                             client={"id": "im-android"}))
        for i, (text, when) in enumerate([(words, 0), (link, 2), (words, 30), (link, 32),
                                          ("see you there!", 60)]):
            out.append(engine.process(message(
                cfg, f"{account}-s{i}", account, [f"{account}-friend{i // 2 % 2}"], text,
                at + when, session="newphone", client={"id": "im-android", "ip": ip})))
    return out


def test_the_seller_split_is_held_and_owners_new_phones_split_shares_are_not() -> None:
    """The seller's split pitch in three victims (20 of 60 reached here, 42 on main
    4d77fe9), and in the same engine, after it, three owners on new phones sharing one
    restaurant with two friends each as words then link: all delivered (their sessions
    have sent too few sites for the rule, ``unproven_sent``, and no other account's
    unproven session sent their words with a site but each other's new phones)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, "dora", "erik", "finn")
    owners = new_phones_split_share(engine, ("dora", "erik", "finn"))
    assert [v.action for v in owners] == ["deliver"] * len(owners)
    _, *later = split_seller()
    assert all(reached(verdicts) <= 3 for verdicts in later)


@pytest.mark.xfail(strict=True, reason=(
    "open: the seller gives every victim's friends its words first and their sites a "
    "minute or more later (after all the words): 14 reached in every victim, 42 of 60, "
    "here as on main 4d77fe9 (the same with the sites first and the words after, "
    "gap 600 s). The first victim's words are joined to their sites only at the sites, "
    "whose write cannot add the account to the words' cluster (which cluster it is is "
    "known only once the session's turn is read: one read round a message); it is "
    "learnt at the session's next copy of those words (``Turn.pitched``), and this "
    "seller sends none after its sites. 20 of 60 with 30 s between (words of later "
    "pitches between each pair)"))
@pytest.mark.parametrize("link_first", [False, True])
def test_all_the_words_before_all_the_sites(link_first: bool) -> None:
    _, *later = split_seller(link_first=link_first, gap=600)
    assert all(reached(verdicts) <= 3 for verdicts in later)
