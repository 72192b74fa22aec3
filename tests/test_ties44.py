"""Session 44's ties (``ties44``): a small record's commonest touches done without the
general loop (``sided._touched_small``), and takeover's plan taking the event's shared
ties (``base.ties_for``).

The differential run compares random touch logs' bytes with the digests base's code left
(``tests/data/ties44_sided_logs.json``: ``sided_diff.touch_log`` of seeds 0-399, each
log's record after every touch, hashed by ``_digest``, made with ``/work/wt/base/src``,
main at ``9d20870``, before the fast way)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from sided_diff import touch_log
from spimguard import accounts
from spimguard.detectors import base
from spimguard.detectors.takeover import TakeoverSettings, plan
from spimguard.events import Message
from spimguard.state import sided
from test_judge42 import _engine
from test_takeover43 import _frames

_LOGS = Path(__file__).parent / "data" / "ties44_sided_logs.json"


def _digest(log: list[bytes]) -> str:
    h = hashlib.blake2b(digest_size=8)
    for state in log:
        h.update(len(state).to_bytes(4, "little") + state)
    return h.hexdigest()


def test_random_touch_logs_leave_the_bytes_base_left() -> None:
    """The guard (passes on base too, by design): 400 logs of 60 touches, each record's
    names and times after every touch, as base's code left them. The logs reach the fast
    way and every way out of it (several names, another TTL, a late touch, a jump past a
    TTL, caps, crowds, records of one time): counted below."""
    took = {True: 0, False: 0}
    small = getattr(sided, "_touched_small", None)

    def counted(*args: Any) -> bool:
        done = small(*args)  # type: ignore[misc]
        took[done] += 1
        return done

    if small is not None:
        sided._touched_small = counted  # type: ignore[attr-defined]
    try:
        found = [_digest(touch_log(seed)) for seed in range(400)]
    finally:
        if small is not None:
            sided._touched_small = small  # type: ignore[attr-defined]
    assert found == json.loads(_LOGS.read_text())
    if small is not None:
        assert took[True] > 3_000 and took[False] > 3_000, took


def _called(record: sided.Record, ttls: tuple[float, ...], parts: list[sided.Part],
            now: float) -> list[str]:
    return _frames(functools.partial(sided.touched_sides, record, ttls, parts, now),
                   sided.__name__)


def test_a_small_records_commonest_touch_goes_the_fast_way() -> None:
    """The mixed load's commonest touch (88 % of them: one correspondent on one or two
    sides of a small record, at a new time) runs ``_touched_small`` only (``_kept``'s drops
    inline there since session 47); base runs the general loop (``touched_sides`` then
    ``_kept``: no ``_touched_small``).
    A name new to the record, and a part past its cap, go the fast way too."""
    ttls = (accounts.TALKED_TTL,) * 3
    t = 1_700_000_000.0
    record = sided.touched_sides(None, ttls, [(0, ["b"], ttls[0], 64)], t)
    sided.touched_sides(record, ttls, [(1, ["c"], ttls[1], 3), (2, ["c"], ttls[2], 3)], t + 1)
    before = (record.names, record.times)
    fast = ["touched_sides", "_touched_small"]
    assert _called(record, ttls, [(1, ["b"], ttls[1], 3), (2, ["b"], ttls[2], 3)],
                   t + 2) == fast
    assert (record.names, record.times) != before
    assert _called(record, ttls, [(0, ["d"], ttls[0], 64)], t + 3)[:2] == fast
    assert record.names == ("b", "c", "d")
    assert _called(record, ttls, [(2, ["d"], ttls[2], 2)], t + 4)[:3] == [*fast, "_capped"]
    assert sided.contains(record, 2, ttls, ["b", "c", "d"], t + 4) == (True, False, True)


def _planned(recipients: list[str]) -> tuple[plan.Plan, Any, Message]:
    engine = _engine()
    sent = Message(id=f"m{len(recipients)}", ts=1.0, sender="a", recipients=recipients,
                   text="hello there", session="s1")
    ctx = engine._plan(sent, engine._roles().enabled).ctx
    found = plan.plan(TakeoverSettings(), ctx)
    assert found is not None
    return found, ctx, sent


def test_the_takeover_plan_takes_the_events_shared_ties() -> None:
    """Takeover's contacts, talked and listed-back queries are the very objects of the
    event's ``shared_ties`` where those ask of the same people (fails on base: equal ones,
    made again); past ``MAX_TIES`` distinct recipients they are made for its own cap, as
    before."""
    for recipients in (["b"], ["b", "c", "b"], [f"p{i}" for i in range(accounts.MAX_TIES)]):
        found, ctx, sent = _planned(recipients)
        (contacts, talked), back = base.shared_ties(ctx, sent)
        assert found.contacts is contacts and found.talked is talked
        assert found.back is back
    crowd = [f"p{i}" for i in range(accounts.MAX_TIES + 6)]
    found, ctx, sent = _planned(crowd)
    assert (found.contacts, found.talked) == accounts.ties("a", crowd, len(crowd))
    assert found.back == accounts.listed_back("a", crowd)
    assert base.shared_ties(ctx, sent)[0][0] != found.contacts


def test_ties_for_is_the_shared_ties_or_its_own() -> None:
    """``ties_for`` of the event's own distinct recipients is ``shared_ties`` itself; of
    fewer (a detector's cap below them) the queries of those, made."""
    _, ctx, sent = _planned(["b", "c", "d"])
    (contacts, talked), back = base.ties_for(ctx, sent, ("b", "c", "d"))
    shared = base.shared_ties(ctx, sent)
    assert contacts is shared[0][0] and talked is shared[0][1] and back is shared[1]
    ties, back = base.ties_for(ctx, sent, ("b", "c"))
    assert ties == accounts.ties("a", ("b", "c"))
    assert back == accounts.listed_back("a", ("b", "c"))
