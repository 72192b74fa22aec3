"""A pitch touched again is cheap (session 37, ``pitch37``): a pitch's set (``keys.text``)
is a side whose head its record holds (touched with ``burst_window``, its keyspace
declaring a session's life), and such a touch went ``sided._retouched`` (every time
unpacked and packed again) where a derived head's went the fast way; and a guest's touch
walked its host's guests again after writing them, to keep the bytes it had just made."""

from __future__ import annotations

import random
import sys

import pytest

from spimguard import text
from spimguard.detectors.takeover import TakeoverSettings, keys
from spimguard.state import memory, sided
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Distinct, Members, Tally, Touch

CFG = TakeoverSettings()
WINDOW, CAP = float(CFG.burst_window), CFG.burst_cap
ACCOUNT = "@a:s"
PITCH = keys.text(ACCOUNT, "phone", text.view("cheap tones at http://tones-shop.biz/x now"))
PLAIN = keys.burst(ACCOUNT, "phone")  # a member set of its own: the oracle
PEOPLE = ("@b:s", "@c:s", "@d:s", "@e:s", "@f:s")


def _slow_touches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts ``sided._retouched``'s calls, as the store calls it."""
    calls = [0]
    retouched = sided._retouched

    def counted(*args: object) -> sided.Record:
        calls[0] += 1
        return retouched(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sided, "_retouched", counted)
    return calls


def test_a_pitch_touched_again_within_its_window_goes_the_fast_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second and later touches of a pitch already lodged, within its window, unpack
    no time (``sided._retouched`` not called); on main each was one. Only the first (a new
    record, its head to hold) and one past the window (the side restarts) go slowly."""
    state, slow = MemoryState(), _slow_touches(monkeypatch)
    state.write([Touch(PITCH, PEOPLE[:1], WINDOW, CAP, keys.LIFE)], T0)
    assert slow[0] == 1  # a new record with a head held
    for step in range(1, 5):
        state.write([Touch(PITCH, PEOPLE[step:step + 1], WINDOW, CAP, keys.LIFE)],
                    T0 + 30 * step)
    assert slow[0] == 1
    state.write([Touch(PITCH, PEOPLE[:1], WINDOW, CAP, keys.LIFE)], T0 + 120 + WINDOW + 1)
    assert slow[0] == 2  # past the side's expiry: it restarts, the slow way


def test_a_lodged_guest_touch_walks_its_host_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A touch of a guest already lodged finds its place among the host's guests once
    (``hold_guest``, which hands back the bytes it wrote), where main walked them again
    (``guest_held``) to keep those bytes for the next reads."""
    state = MemoryState()
    state.write([Touch(PITCH, PEOPLE[:1], WINDOW, CAP, keys.LIFE)], T0)
    walks = [0]
    find = memory._Account._find_guest

    def counted(self: memory._Account, name: bytes) -> object:
        walks[0] += 1
        return find(self, name)

    monkeypatch.setattr(memory._Account, "_find_guest", counted)
    state.write([Touch(PITCH, PEOPLE[1:2], WINDOW, CAP, keys.LIFE)], T0 + 5)
    assert walks[0] == 1
    # ... and the record kept for the reads is the one lodged: read with no walk more.
    assert state.read([Members(PITCH, keys.LIFE)], T0 + 6) == [PEOPLE[:2]]
    assert walks[0] == 1


def test_a_pitch_answers_as_a_member_set_of_its_own() -> None:
    """Over random touches at a pitch's TTL and cap (in the window, past it, at one
    time, a cap reached), the pitch's lodged side answers every read as a member set
    of its own touched alike: the fast way changes no answer."""
    rng, state, now = random.Random(37), MemoryState(), T0
    people = [f"@p{i}:s" for i in range(12)]
    for _ in range(400):
        now += rng.choice([0.0, 1.0, 30.0, 200.0, WINDOW + 1.0])
        fresh = tuple(rng.sample(people, rng.choice([1, 1, 2, 3])))
        cap = rng.choice([2, 5, CAP])
        state.write([Touch(PITCH, fresh, WINDOW, cap, keys.LIFE),
                     Touch(PLAIN, fresh, WINDOW, cap)], now)
        at = now + rng.choice([0.0, 10.0, WINDOW / 2])
        lodged, plain = state.read([Tally(PITCH, WINDOW, tuple(people), keys.LIFE),
                                    Tally(PLAIN, WINDOW, tuple(people))], at)
        assert lodged == plain, now
        assert state.read([Distinct(PITCH, 60.0, keys.LIFE)], at) == state.read(
            [Distinct(PLAIN, 60.0)], at), now


def test_touches_of_a_held_head_leave_the_bytes_the_slow_path_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``sided.touched_sides`` of sides whose heads are held (touched with a TTL not the
    declared one), alone and among other parts, leaves exactly what ``sided._retouched``
    of each part in turn leaves, and most such touches go the fast way (on main none)."""
    onward, slowed = sided._onward, [0]

    def counted(record: sided.Record, ttls: tuple[float, ...], parts: list[sided.Part],
                now: float) -> sided.Record:
        slowed[0] += 1
        return onward(record, ttls, parts, now)

    monkeypatch.setattr(sided, "_onward", counted)
    rng, sides, touches = random.Random(41), 3, 0
    declared = (1e6,) * sides
    for crowd, caps in ((5, (1, 2, 50)), (40, (3, 200))):
        people = [sys.intern(f"p{i}") for i in range(crowd)]
        record = sided.empty(sides)
        now = T0
        for _ in range(1_000):
            # Mostly in order, as events come (a late touch goes the slow way, whatever
            # its side: the record's newest time is later).
            now += rng.choice([0.0, 0.5, 1.0, 7.0, 30.0] * 4 + [90.0, -2.0])
            # Side 0 is a pitch's: touched with 60 s (its head held), now and then 45;
            # the others with the declared TTL (their heads derived).
            parts = [(side, rng.sample(people, rng.choice([1, 1, 2])),
                      rng.choice([60.0] * 9 + [45.0]) if side == 0 else 1e6,
                      rng.choice(caps))
                     for side in rng.sample(range(sides), rng.choice([1, 1, 2]))]
            touches += 1
            slow = sided.Record(record.names, record.times)
            for side, fresh, ttl, cap in parts:
                slow = sided._retouched(slow, side, declared, fresh, now, ttl, cap)
            record = sided.touched_sides(record, declared, parts, now)
            assert (record.names, record.times) == (slow.names, slow.times), now
    # Most went the fast way: 577 of 2,000 slowly here (a late touch, a new record,
    # another TTL than the head's, a restart past the expiry, a drop past the TTL), 1,092
    # on main, where every touch of the held head went ``_retouched``.
    assert slowed[0] < 0.4 * touches, (slowed[0], touches)
