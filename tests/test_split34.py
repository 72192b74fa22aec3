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

from conftest import T0, event, message
from test_attack_session25 import HOSTING_IP, NAMES, OFFICIAL_APP
from test_attack_session32 import PITCHES, VICTIMS, _victims

WORDS = "hey {n}! I found cheap ringtones here"
FORMS = {"link": "http://{s}/r", "host": "{s}", "apart": "{h} . biz"}


def split_seller(victims: tuple[str, ...] = VICTIMS, link_first: bool = False,
                 form: str = "link", gap: float = 1) -> list[list[Any]]:
    """The seller signs in to each victim (the official app's id, its server) and gives
    each of 20 friends its pitch as two messages: the words (the friend's name in them),
    then ``gap`` seconds later the site alone (``link_first``: the site, then the words),
    ``form`` a link, the bare host or the host written apart; pitches 3 s apart, victim
    after victim 10 minutes apart (past 3 s, each victim's words all come before their
    sites). The verdicts kept are the sites'."""
    engine = _victims(victims)
    cfg = engine.config
    for k, account in enumerate(victims):
        engine.process(event(cfg, type="login", id=f"{account}-in", ts=T0 - 60 + k,
                             account=account, session="seller", ip=HOSTING_IP,
                             client={"id": OFFICIAL_APP}))
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
                session="seller", client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
            if is_site:
                out[k].append(verdict)
    return out
