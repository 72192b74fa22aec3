"""Review of ``clusters34`` (session 34, ``review34c``): a bulk cluster stored once.

A cluster's summary lives under one home key, which every band of its texts names. A
home written with a shorter TTL than it had (a copy sent once the counts have decayed:
``singleton_ttl``) expired while bands an earlier write named it under lived on: with it
went the users' confirmation of the whole campaign, not one text's. Its home is now kept
at least as long as it was (``Cluster.kept``).
"""

from __future__ import annotations

from typing import Any

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


def test_a_message_reads_at_most_one_home_a_band() -> None:
    """The second read is bounded by the bands: a text whose six bands name six clusters
    (the most an attacker's text can meet) makes the engine read six homes, once each,
    and joins the one with the most messages (``_decoded``)."""
    from spimguard.detectors.bulk import BulkSettings, Cluster, home, stored, text_keys
    from spimguard.state.ops import Get, Put, Puts
    from spimguard.text import names_of, view

    engine = open_engine(config())
    text = BLAND.format(name="friend1", n=1)
    bands = text_keys(view(text), names_of(("friend1",)), BulkSettings())
    assert bands is not None and len(bands) == 6
    writes: list[Any] = []
    for n, band in enumerate(bands):
        writes += [Puts((band,), f"c{n}", 3600.0),
                   Put(home(f"c{n}"), stored(Cluster(id=f"c{n}", first=T0, last=T0,
                                                     messages=float(n + 1))), 3600.0)]
    engine.state.write(writes, T0)
    homes: list[str] = []
    read = engine.state.read

    def counted(queries: Any, now: float) -> list[Any]:
        homes.extend(q.key for q in queries if isinstance(q, Get) and q.key.startswith("bulk:c:"))
        return read(queries, now)

    engine.state.read = counted  # type: ignore[method-assign]
    send(engine, 1, "someone", text, T0 + 1)
    assert sorted(homes) == sorted(home(f"c{n}") for n in range(6))
    engine.state.read = read  # type: ignore[method-assign]
    assert engine.state.read([Get(band) for band in bands], T0 + 2) == ["c5"] * 6
