"""The takeover detector's reads, its burst signal's inputs and its typed shares: what an
event reads is what its branch can use, and the numbers its judgements rest on are
settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from conftest import T0, config, event, forget_conversions, message
from spimguard import open_engine, text
from spimguard.db import connect
from spimguard.detectors.base import Context, settings
from spimguard.detectors.takeover import TakeoverSettings, burst, keys, plan, profile
from spimguard.state import StateBackend
from spimguard.state.ops import Contains, Count, Distinct, Query, Tally, Touch
from spimguard.state.sqlite import SQLiteState

CFG = TakeoverSettings()


def planned(**extra: Any) -> plan.Plan:
    cfg = config()
    event = message(cfg, "m1", "alice", ["bob"], extra.pop("body", "see you at five"), T0,
                    session="phone", **extra)
    view = text.SEALED if event.encrypted else text.view(event.text)
    found = plan.plan(CFG, Context(event, view=view))
    assert found is not None
    return found


def keys_read(found: plan.Plan) -> set[str]:
    """The keys the event may read: before it is judged, or when its judgement asks."""
    return {q.key for q in (*found.reads, *found.later)}


def test_every_planned_query_is_read_once_and_named_for_its_part() -> None:
    found = planned(body="see http://shop.example/x")
    every = (*found.reads, *found.later)
    assert len(set(every)) == len(every)
    parts = [q for q in msgspec.structs.astuple(found)
             if isinstance(q, Distinct | Contains | Count | Tally)]
    assert set(parts) | set(found.listed_back) <= set(every)
    # Each part is its own key (the plan is built by position: a swap would show here).
    people = ("bob",)
    assert found.burst == Tally(keys.burst("alice", "phone"), CFG.burst_window, people)
    assert found.life == Tally(keys.lifelong("alice", "phone"), CFG.session_ttl, people,
                               keys.LIFE)
    assert found.pals == Tally(keys.lifelong("alice", "phone"), CFG.session_ttl, people,
                               keys.PALS)
    assert found.doubted == Tally(keys.doubted("alice"), CFG.burst_window, people)
    view = text.view("see http://shop.example/x")
    assert found.text_to == Tally(keys.text("alice", "phone", view), CFG.burst_window, people,
                                 keys.LIFE)
    assert found.same_text == Count(keys.same_text("alice", "phone", view), CFG.burst_window,
                                    CFG.burst_bucket)
    assert found.session == "phone"


def test_a_message_without_a_link_reads_no_pitch_counts() -> None:
    found = planned()
    assert found.text_to is None
    assert not any(keys.PITCHED in k or keys.SPREAD in k for k in keys_read(found))
    assert len(found.listed_back) == 1  # in the clear with no link: owner_consistent asks


def test_a_message_with_a_link_reads_no_listings_back() -> None:
    found = planned(body="look http://shop.example/x")
    assert found.text_to is not None and found.text_to.key in keys_read(found)
    assert found.listed_back == ()  # a link is never consistent with the owner


def test_an_encrypted_message_reads_no_text_repeats_and_no_listings_back() -> None:
    found = planned(body="", encrypted=True, size=300)
    assert found.same_text is None
    assert not any(k.startswith("tk:fp:") for k in keys_read(found))
    assert found.shape is not None and found.shape in found.risky()
    assert found.listed_back == ()


def test_more_recipients_than_owner_people_read_no_listings_back() -> None:
    cfg = config()
    people = [f"p{i}" for i in range(CFG.owner_people + 1)]
    event = message(cfg, "m1", "alice", people, "hi all", T0, session="phone")
    found = plan.plan(CFG, Context(event, view=text.view(event.text)))
    assert found is not None and found.listed_back == () and found.heard is None


def test_the_script_share_is_a_setting() -> None:
    mixed = "привет hello"  # 6 Cyrillic of 11 letters
    assert profile.script(CFG, mixed) == "C"
    stricter = settings("takeover", TakeoverSettings, {"script_share": 0.6})
    assert profile.script(stricter, mixed) == ""
    assert profile.script(CFG, "кот 1234567") == ""  # 3 of 10: under a third
    assert profile.script(CFG, "кот 123456") == "C"  # 3 of 9: a third


@pytest.mark.parametrize(("share", "one_text"), [(0.5, True), (0.75, False)])
def test_the_dormant_share_is_a_setting(share: float, one_text: bool) -> None:
    cfg = settings("takeover", TakeoverSettings, {"burst_dormant_share": share})
    judged = burst.Judged(risk=1.0, where="a new network", client="bot", scraped=False,
                          size=60, same_text=False, link=False, own_app=False, owner=False,
                          encrypted=False, dormant=1, contacts=2, replies=0, read=0,
                          login=T0, sent=3.0)
    found = burst.signal(cfg, burst.Burst(4, 0, False), judged, 1.0)
    base = cfg.burst_base + cfg.burst_risk * judged.risk
    assert found.strength == pytest.approx(base + cfg.burst_one_text * one_text)
    assert found.code == "ACCOUNT_HIJACK_BURST" and found.about["count"] == "3"


def test_only_a_message_with_a_link_leaves_whom_its_pitch_went_to() -> None:
    """The contacts a session sent a pitch to are asked only of a message with a link
    (its domain is the pitch): a text without one leaves no set nobody would read."""
    cfg = config()
    engine = open_engine(cfg)
    engine.process(event(cfg, type="contacts", id="c", ts=T0, account="alice",
                         contacts=["bob", "carol"]))
    plain = message(cfg, "m1", "alice", ["bob"], "see you at five", T0 + 1, session="phone")
    linked = message(cfg, "m2", "alice", ["carol"], "look http://shop.example/x", T0 + 2,
                     session="phone")
    for sent in (plain, linked):
        engine.process(sent)
    window = float(CFG.burst_window)
    plain_key = keys.text("alice", "phone", text.view(plain.text))
    linked_key = keys.text("alice", "phone", text.view(linked.text))
    assert engine.state.read([Distinct(plain_key, window, keys.LIFE),
                              Distinct(linked_key, window, keys.LIFE)], T0 + 3) == [0, 1]


def _lifelong_reads(found: plan.Plan) -> list[Query]:
    assert found.life is not None and found.pals is not None
    return [found.life, found.pals]


def _check_lifelong_converted(make: Callable[[], StateBackend],
                              forget_done: Callable[[], None]) -> None:
    """A session's two plain sets as the earlier release wrote them (``tk:life:``,
    ``tk:pals:``) answer the plan's reads of its record's sides as they answered the plain
    sets' once the store opens again: members, times, TTL and cap kept."""
    cfg = config()
    event = message(cfg, "m1", "alice", ["bob", "carol", "dave"], "hi", T0 + 500,
                    session="phone")
    found = plan.plan(CFG, Context(event, view=text.view(event.text)))
    assert found is not None
    old = make()
    old.write([Touch("tk:life:alice:phone", ("bob", "carol"), 400.0, 5)], T0)
    old.write([Touch("tk:life:alice:phone", ("carol",), 400.0, 5),
               Touch("tk:pals:alice:phone", ("dave",), 400.0, 5)], T0 + 200)
    old.commit()
    expected = old.read([Distinct("tk:life:alice:phone", CFG.session_ttl),
                         Contains("tk:life:alice:phone", ("bob", "carol", "dave")),
                         Distinct("tk:pals:alice:phone", CFG.session_ttl),
                         Contains("tk:pals:alice:phone", ("bob", "carol", "dave"))], T0 + 500)
    assert expected == [1, (False, True, False), 1, (False, False, True)]  # bob expired
    old.close()
    forget_done()
    state = make()
    assert state.read(_lifelong_reads(found), T0 + 500) == [tuple(expected[:2]),
                                                             tuple(expected[2:])]
    state.close()


def test_an_earlier_sqlite_stores_session_sets_convert_when_it_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _check_lifelong_converted(lambda: SQLiteState(connect(path)),
                              lambda: forget_conversions(path, "sided:tk:session:"))


def test_an_earlier_redis_stores_session_sets_convert_when_a_node_opens(
        redis_url: str, redis_namespace: str) -> None:
    import redis

    from spimguard.state.redis import RedisState

    raw = redis.Redis.from_url(redis_url)

    def forget_done() -> None:  # a store of before both conversions
        raw.delete(*(f"{redis_namespace}state-key:member-hash:converted:{kind}tk:session:"
                     for kind in ("", "heads:", "guests:")))

    _check_lifelong_converted(lambda: RedisState(redis_url, redis_namespace), forget_done)
    assert not raw.keys(f"{redis_namespace}tk:life:*")


def test_each_set_of_the_detectors_own_is_asked_once_a_message() -> None:
    """A set's count and which recipients it holds come in one query (``Tally``): the
    burst's, the session's lifelong sides, the doubted sessions' (in the window and over a
    session's life), the pitch's, the owner's one-way record and the earned networks'
    popular shares (17 queries a message to one friend, 8 of them read only for a risky
    session's and 1 only for an earned network's popular share, where the pairs were 19)."""
    for found in (planned(), planned(body="look http://shop.example/x"),
                  planned(body="", encrypted=True, size=300)):
        own = [(q.key, getattr(q, "side", "")) for q in (*found.reads, *found.later)
               if q.key.startswith("tk:") or getattr(q, "side", "") == keys.WROTE]
        assert len(own) == len(set(own)), own
    assert len(planned().reads) + len(planned().later) == 17



_IDS = st.text(alphabet="a:%3A", max_size=6)


@examples(max_examples=300, deadline=None)
@given(account=_IDS, head=_IDS, tail=_IDS, other=st.tuples(_IDS, _IDS),
       views=st.sampled_from([(None, None), (text.view("buy at http://tones.example.com now"),
                                             text.view("buy at http://tones.example.org now")),
                              (text.view("see you at five"), text.view("see you at six"))]))
def test_a_sessions_keys_name_one_account_and_session_whatever_their_ids_hold(
        account: str, head: str, tail: str, other: tuple[str, str],
        views: tuple[text.MessageView | None, text.MessageView | None]) -> None:
    """Ids are chosen outside (a client names its session; Matrix ids hold ":"): joined
    as they are, ``@a:s``'s session ``x:1`` and ``@a:s:x``'s ``1`` shared one burst key,
    one account's intruder counting in another's. Two sessions share no key: not the
    pair made by moving a ":"-part from the session to the account, nor any other."""
    view, pitched = views
    moved = ((account, f"{head}:{tail}"), (f"{account}:{head}", tail))
    for first, second in (moved, ((account, head), other)):
        if first == second:
            continue
        for make in (keys.burst, lambda a, s: keys.text(a, s, view),
                     lambda a, s: keys.same_text(a, s, view),
                     lambda a, s: keys.shape(a, s, 900), keys.lifelong):
            assert make(*first) != make(*second), (first, second)
    # Nor do two pitches of one session.
    if view is not None and pitched is not None:
        assert keys.text(account, head, view) != keys.text(account, head, pitched)
