"""Red team, session 33: one campaign's cluster forks when a copy joins through a stale band
(``clusters33``).

Each of a text's six band keys holds the whole cluster summary; a copy takes the cluster of
the band with the most (decayed) messages among its own six, and writes it back to them. A
spun copy (synonyms picked per copy) shares a band or two with a few earlier copies only;
when those bands were last written by an early copy, it reads that copy's count and writes
it forward, a step behind the copies it cannot see. Measured on main (session 33, with
``respin33``): 200 copies of the spintax pitch of ``test_attack_session32_content``, one a
copy from its own account to its own recipient five seconds apart, leave 4 or 5 cluster ids
(most copies under one) but 162-168 distinct values of them on 379-400 band keys, the
largest counting 48.9, 59.5, 58.0 copies (seeds 1-3; 68.2, 60.5 on seeds 4-5), where the
plain, greeting and padded campaigns keep one value of 182 (every copy, decayed). The
design notes and the measured price of the fixes are in docs/red-team-log.md. Fixed in
session 34 (``clusters34``): a band holds the cluster's id, the summary lives once under
its home key; the engine counts 175.4, 168.7, 177.8 (seeds 1-3; 175.4, 172.8 on 4-5).
"""

from __future__ import annotations

import pytest

from conftest import T0, clusters_at, config, message
from spimguard import open_engine
from spimguard.detectors.bulk import BulkSettings, text_keys
from spimguard.text import names_of, view
from test_attack_session32_content import NAMES, _spun


def _counted(copies: list[str]) -> float:
    """The most (decayed) copies any band key of the copies credits their cluster with, once
    each copy came from its own account to its own recipient, five seconds apart."""
    engine = open_engine(config())
    cfg, keys = BulkSettings(), set()
    for n, (text, name) in enumerate(zip(copies, NAMES, strict=True)):
        engine.process(message(engine.config, f"c{n}", f"acct{n}", [name], text, T0 + n * 5))
        keys.update(text_keys(view(text), names_of((name,)), cfg) or ())
    return max((c.messages for c in clusters_at(engine, sorted(keys), T0 + 1_000)),
               default=0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_spun_campaign_is_counted_as_one_cluster(seed: int) -> None:
    assert _counted(_spun(seed)) >= 150
