"""Review of ``clusters34`` (session 34, ``review34c``): a bulk cluster stored once.

A cluster's summary lives under one home key, which every band of its texts names. A
home written with a shorter TTL than it had (a copy sent once the counts have decayed:
``singleton_ttl``) expired while bands an earlier write named it under lived on: with it
went the users' confirmation of the whole campaign, not one text's. Its home is now kept
at least as long as it was (``Cluster.kept``).
"""

from __future__ import annotations

from conftest import T0, config, established, event
from spimguard import open_engine
from test_bulk import send

BLAND = "hey {name}, you have to see this, it is really something http://look-here.biz/{n}"


def test_one_copy_after_the_counts_decay_does_not_erase_a_confirmation() -> None:
    """Three recipients report a campaign (confirmed at T0+2 min, kept a day). Five hours
    later its count has decayed to ~0.2; the spammer sends one copy, which on 907bd37
    rewrote the home for ``singleton_ttl`` (an hour): an hour and a minute later the next
    copy found no home (its bands still named it) and the campaign restarted unconfirmed,
    18 hours early. Without that one copy the confirmation holds; with it, it must too."""
    engine = open_engine(config())
    established(engine, "friend1", "friend2", "friend3")
    for n in (1, 2, 3):
        send(engine, n, f"victim{n}", BLAND.format(name=f"friend{n}", n=n), T0 + n)
    for n in (1, 2, 3):
        engine.process(event(engine.config, type="report", id=f"r{n}", ts=T0 + 60 + n,
                             reporter=f"friend{n}", message_id=f"c{n}", label="spam"))
    confirmed = send(engine, 5, "someone-else", BLAND.format(name="friend5", n=5), T0 + 120)
    assert "CAMPAIGN_CONFIRMED" in {s.code for s in confirmed.signals}
    send(engine, 6, "spammer", BLAND.format(name="friend6", n=6), T0 + 5 * 3600)
    later = send(engine, 7, "spammer2", BLAND.format(name="friend7", n=7), T0 + 6 * 3600 + 60)
    assert "CAMPAIGN_CONFIRMED" in {s.code for s in later.signals}
