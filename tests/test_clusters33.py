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
design notes and the measured price of the fixes are in docs/red-team-log.md.
"""

from __future__ import annotations

import pytest

from conftest import T0, config, message
from spimguard import open_engine
from spimguard.detectors.bulk import BulkSettings, loaded, text_keys
from spimguard.state.ops import Get
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
    held = engine.state.read([Get(k) for k in sorted(keys)], T0 + 1_000)
    return max((loaded(value).messages for value in held if value), default=0.0)


@pytest.mark.xfail(strict=True, reason=(
    "a spun copy joins its cluster through a band an earlier copy last wrote and carries "
    "that copy's count forward: the engine credits 200 spun copies with 48.9, 59.5, 58.0 "
    "(seeds 1-3; 68.2, 60.5 on 4-5) of the 182 a plain campaign's one value counts. "
    "Offline, without decay, on the same copies' band keys: the longest chain is 54-75; the "
    "union of what each copy sees 174-182; a band holding the cluster's id, its summary "
    "under one key, 184-195; a 16- or 32-bucket G-counter merged by elementwise max (no "
    "new read) 114-133 or 138-155. Prototyped in the engine (session 33, clusters33: the "
    "summary also under bulk:c:<id>, read after the bands where the store reads during "
    "detection): 175.4, 168.7, 177.8 (175.4, 172.8); ham price flat on benchmarks/bulk.py "
    "(21,333 -> 21,334 ham held of 100,000; bulk + warn-level 294 -> 295), on the "
    "simulator's mixed load 153 -> 158 of 1,000 greetings warned, none held (hash moves), "
    "+3.8 % instructions an event. Not shipped: on Redis the summary's key is known only "
    "after the claim's read (the plan never reads state), a second round trip per "
    "clustered message, which the claimed read and its commit check do not have yet"))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_spun_campaign_is_counted_as_one_cluster(seed: int) -> None:
    assert _counted(_spun(seed)) >= 150
