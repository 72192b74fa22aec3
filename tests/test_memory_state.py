"""MemoryState's packed member sets: the shapes its fast paths take answer as a plain model."""

from __future__ import annotations

import random

from spimguard.state.memory import _PACKED, MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Remove, Replace, Touch

T0 = 1_700_000_000.0


def test_small_sets_touched_one_member_at_a_time_answer_as_a_model() -> None:
    """The touches a message makes, one member at a time (new to the set, the newest again,
    an older one again, a set of one), with events late or at one time, past the cap and
    the TTL: every answer is the model's, a dict of member -> last touch read in (time,
    name) order."""
    rng = random.Random(5)
    state = MemoryState()
    people = [f"p{i}" for i in range(7)]
    ttl, cap = 1_000.0, 5
    model: dict[str, float] = {}
    expiry, now = 0.0, T0
    for step in range(3_000):
        now += rng.choice([0.0, 0.5, 10.0, 10.0, 10.0, -20.0, 400.0, 1_100.0])
        op = rng.random()
        if op < 0.8:
            some = tuple(rng.sample(people, rng.choice([1, 1, 1, 1, 2, 3])))
            state.write([Touch("s", some, ttl=ttl, cap=cap)], now)
            if expiry <= now:
                model = {}
            for member in some:
                model[member] = max(model.get(member, now), now)
            model = {m: t for m, t in model.items() if t > now - ttl}
            ordered = sorted(model, key=lambda m: (model[m], m))
            for gone in ordered[:max(0, len(model) - cap)]:
                del model[gone]
            expiry = max(expiry, now + ttl)
        elif op < 0.9:
            some = tuple(rng.sample(people, 1))
            state.write([Remove("s", some)], now)
            for member in some:
                model.pop(member, None)
        else:
            some = tuple(rng.sample(people, rng.choice([1, 2])))
            state.write([Replace("s", some, ttl=ttl)], now)
            model, expiry = dict.fromkeys(some, now), now + ttl
        later = now + rng.choice([0.0, 5.0, 999.0])
        live = {m: t for m, t in model.items() if t > later - ttl} if expiry > later else {}
        probe = tuple(rng.sample(people, rng.choice([1, 1, 3])))
        window = rng.choice([15.0, 300.0, 2_000.0])
        assert state.read([Members("s"), Contains("s", probe), Distinct("s", window)],
                          later) == [
            tuple(sorted(live, key=lambda m: (live[m], m))), tuple(p in live for p in probe),
            sum(1 for t in live.values() if t > later - window)], step


def test_a_first_touch_past_the_packing_size_makes_a_dict() -> None:
    """A set's first touch of more members than a packed set holds stores them as a dict,
    whose lookups do not grow with the set, as a set grown past that size by touches is."""
    state = MemoryState()
    many = tuple(f"p{i:04d}" for i in range(_PACKED + 1))
    state.write([Touch("s", many, ttl=1_000.0, cap=1_000)], T0)
    held = state.member_set("s")
    assert held is not None and isinstance(held[0], dict)
    assert state.read([Members("s"), Contains("s", (many[-1], "x")), Distinct("s", 10.0)],
                      T0) == [many, (True, False), len(many)]
