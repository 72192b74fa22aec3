"""Ids chosen outside name one key each: an account, a session or a peer whose id holds
":" or starts like another keyspace's prefix never reads or fills another's key (red
team, session 24). The generic API takes any id of 1-512 characters."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from conftest import T0, engine, message
from spimguard import accounts
from spimguard.detectors import sealed_bulk, sessions
from spimguard.detectors.takeover import keys, record
from spimguard.detectors.takeover.settings import TakeoverSettings
from spimguard.events import Message
from spimguard.state.ops import Get, key_part

# Ids made of the characters and prefixes that compose keys.
_PARTS = st.sampled_from([*(p.removeprefix("tk:") for p in keys.OTHERS), "%", "%25", ":",
                          "%3A", "a", "@a", "s"])
_IDS = st.lists(_PARTS, min_size=1, max_size=4).map("".join)


@examples(max_examples=400, deadline=None)
@given(account=_IDS, other=_IDS, session=_IDS)
def test_an_accounts_takeover_record_is_its_own_key(account: str, other: str,
                                                     session: str) -> None:
    """Its key is no other account's, nor any of the detector's other keys of any ids."""
    mine = record.key(account)
    if other != account:
        assert record.key(other) != mine
    assert not mine.startswith(keys.OTHERS), mine
    # "tk:heard:" is retired (session 36), its keys as a node of before wrote them kept
    # for one reply window after an upgrade: still no record's.
    assert mine not in (f"tk:heard:{other}:{key_part(session)}", keys.burst(other, session),
                        keys.doubted(other), keys.shape(other, session, 900))


def test_an_account_named_like_a_takeover_key_is_judged_and_leaves_that_key_alone() -> None:
    """``heard:@a:s`` was @a's "heard from s" key: the account's events read a float as
    their record (the detector failed on each: no takeover evidence for it at all), and
    its record's put overwrote @a's key. The suite fails on a logged detector failure.
    Who heard from whom is the ties' since session 36 (``accounts.heard``): the account's
    record is still a key of its own, and @a's "heard from s" is untouched by it."""
    judge = engine()
    window = TakeoverSettings().reply_window
    judge.process(message(judge.config, "m1", "s", ["@a"], "hello there friend", T0))
    heard = judge.state.read([accounts.heard("@a", "s", window)], T0 + 1)[0]
    assert heard == T0
    for i in range(3):
        judge.process(message(judge.config, f"m{i + 2}", "heard:@a:s", ["x"],
                              "hello again", T0 + 5 + i))
    assert judge.state.read([accounts.heard("@a", "s", window),
                             Get(record.key("heard:@a:s"))], T0 + 9)[0] == heard
    assert record.key("heard:@a:s") != "tk:heard:@a:s"


def _sealed(sender: str, session: str) -> Message:
    return Message(id="e", ts=T0, sender=sender, recipients=["r"], session=session,
                   encrypted=True, size=300)


def test_one_senders_session_is_one_key_whatever_the_ids_hold() -> None:
    """Joined as they were, ``@v``'s session ``s:x`` and ``@v:s``'s ``x`` shared the
    sessions detector's report counts and sealed_bulk's reach: an attacker's account
    ``@v`` drew reports (or reach) that held another account's session."""
    for mine, theirs in ((("@v:s", "x"), ("@v", "s:x")), (("@v", "s%3Ax"), ("@v", "s:x"))):
        assert sessions._key(*mine) != sessions._key(*theirs)
        assert sessions._reporters_key(*mine) != sessions._reporters_key(*theirs)
        detector = sealed_bulk.SealedBulkDetector({}, engine().config)
        plans = [set(detector._make_plan(SimpleNamespace(message=_sealed(*ids))).shapes)
                 for ids in (mine, theirs)]
        assert not plans[0] & plans[1], plans
