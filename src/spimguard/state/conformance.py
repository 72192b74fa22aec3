"""``check_backend``: the behaviour every state backend must share with MemoryState.

Run it against a fresh backend (``check_backend(make())``); it raises
AssertionError naming the first primitive that disagrees.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from . import StateBackend
from .memory import MemoryState
from .ops import (
    FOREVER,
    SWEEP_PARTS,
    Append,
    Contains,
    Count,
    Delete,
    Distinct,
    Get,
    Gets,
    Incr,
    LastTouch,
    Members,
    Put,
    Puts,
    Query,
    Remove,
    Replace,
    Since,
    Tally,
    Touch,
    Write,
    guest_keyspace,
    hashed_keyspace,
    lodged_keyspace,
    sided_keyspace,
)

T0 = 1_700_000_000.0
HASHED = hashed_keyspace("conformance-hashed:")  # a keyspace of hashed sets, for the checks
# A keyspace of sided records, for the checks: two sides converted from plain sets.
SIDES = ("c-one", "c-two", "c-three")
# Two sides declare a TTL (a record holds their heads only when a touch names another,
# ``ops.sided_keyspace``), the third none (its heads always held).
SIDED = sided_keyspace("conformance-sided:", {"c-one": "conformance-one:",
                                              "c-two": "conformance-two:", "c-three": ""},
                       ttls={"c-one": 100.0, "c-two": 200.0})
# Sided records a backend may lodge in SIDED's records (``ops.guest_keyspace``), as a
# session's in its account's.
GUEST_SIDES = ("cg-one", "cg-two")
GUEST = guest_keyspace(sided_keyspace("conformance-guest:", {"cg-one": "", "cg-two": ""},
                                      ttls={"cg-one": 200.0}), SIDED)
# Values a backend may lodge in SIDED's records (``ops.lodged_keyspace``), as an account's.
LODGED = lodged_keyspace("conformance-value:", SIDED, field="cv")


def check_backend(state: StateBackend) -> None:
    # Counters: sliding window over buckets, expiry in event time.
    state.write([Incr("c", 2.0, bucket=60, ttl=3600)], T0)
    state.write([Incr("c", 3.0, bucket=60, ttl=3600)], T0 + 61)
    assert state.read([Count("c", 120, 60)], T0 + 61) == [5.0], "Count over two buckets"
    assert state.read([Count("c", 60, 60)], T0 + 61) == [3.0], "Count over the last bucket"
    assert state.read([Count("c", 60, 60)], T0 + 3700) == [0.0], "Count after the TTL"
    assert state.read([Count("missing", 60)], T0) == [0.0], "Count of nothing"

    # Member sets: distinct counts by window, membership, replace and remove.
    state.write([Touch("s", ("a", "b"), ttl=3600, cap=100)], T0)
    state.write([Touch("s", ("b", "c"), ttl=3600, cap=100)], T0 + 100)
    assert state.read([Distinct("s", 50)], T0 + 100) == [2], "Distinct in window"
    assert state.read([Distinct("s", 1000)], T0 + 100) == [3], "Distinct overall"
    assert state.read([Contains("s", ("a", "z", "c"))], T0 + 100) == [(True, False, True)]
    assert state.read([Members("s")], T0 + 100) == [("a", "b", "c")], "Members, oldest first"
    state.write([Remove("s", ("a",))], T0 + 101)
    assert state.read([Contains("s", ("a", "b"))], T0 + 101) == [(False, True)], "Remove"
    state.write([Replace("r", ("x", "y"), ttl=50)], T0)
    state.write([Replace("r", ("y", "z"), ttl=50)], T0 + 1)
    assert state.read([Contains("r", ("x", "y", "z"))], T0 + 2) == [(False, True, True)]
    assert state.read([Contains("r", ("y",))], T0 + 60) == [(False,)], "Replace TTL"

    # Values: JSON round trip and TTL.
    state.write([Put("v", {"n": 1, "xs": ["a"]}, ttl=10)], T0)
    assert state.read([Get("v"), Get("nope")], T0 + 5) == [{"n": 1, "xs": ["a"]}, None]
    assert state.read([Get("v")], T0 + 11) == [None], "Put TTL"
    state.write([Put("v", "again", ttl=10), Delete("v")], T0 + 12)
    assert state.read([Get("v")], T0 + 12) == [None], "Delete"
    # Bytes are kept as they are, whatever they hold (JSON's own first bytes too).
    for packed in (b"\xff\x00[", b'{"v":1}', b""):
        state.write([Put("b", packed, ttl=10)], T0)
        assert state.read([Get("b")], T0 + 9) == [packed], "bytes value"
    assert state.read([Get("b")], T0 + 10) == [None], "bytes value TTL"

    # Several keys at once, lodged or not: a Gets answers what a Get of each would, and a
    # Puts puts its value under each key as a Put of each would (a later write wins).
    state.write([Puts(("m1", "m2", LODGED + "m"), b"\x01packed", ttl=10),
                 Put("m3", {"n": 3}, ttl=20)], T0)
    state.write([Puts(("m2", "m4", LODGED + "m"), [4], ttl=30), Put(LODGED + "n", 5, ttl=20)],
                T0 + 1)
    keys = ("m1", "m2", "m3", "m4", LODGED + "m", LODGED + "n", "none", "m1")
    for at in (T0 + 5, T0 + 15, T0 + 25, T0 + 35):
        each = state.read([Get(k) for k in keys], at)
        assert state.read([Gets(keys), Get("m2"), Gets(keys[:1])], at) == [
            tuple(each), each[1], tuple(each[:1])], "Gets: a Get of each key"
    assert state.read([Gets(keys[:4]), Gets(("m2", "m4")), Gets((LODGED + "n", "none")),
                       Gets(("none", "nothing"))], T0 + 5) == [
        (b"\x01packed", [4], {"n": 3}, [4]), ([4], [4]), (5, None), (None, None)], \
        "Puts: a Put under each key"

    # Caps bound a member set once swept; the stalest members go first.
    state.write([Touch("capped", (f"m{i}",), ttl=3600, cap=3) for i in range(6)], T0)
    for i in range(6):
        state.write([Touch("capped", (f"m{i}",), ttl=3600, cap=3)], T0 + i)
    state.sweep(T0 + 10)
    assert state.read([Distinct("capped", 3600)], T0 + 10) == [3], "cap after sweep"
    assert state.read([Contains("capped", ("m0", "m5"))], T0 + 10) == [(False, True)]

    # A member past its set's TTL is gone, though no touch or sweep has removed it yet
    # (when that happens differs by backend): at exactly the TTL, as a value expires.
    state.write([Touch("aged", ("old",), ttl=100, cap=10)], T0)
    state.write([Touch("aged", ("new",), ttl=100, cap=10)], T0 + 50)
    assert state.read([Contains("aged", ("old", "new")), Members("aged"), Distinct("aged", 1000),
                       Distinct("aged", 60)], T0 + 100) == [(False, True), ("new",), 1, 1], \
        "a member past the TTL"
    assert state.read([Tally("aged", 1000, ("old", "new", "none")), Tally("aged", 10, ("new",)),
                       Tally("missing", 60, ("a",))], T0 + 100) == [
        (1, (False, True, False)), (0, (True,)), (0, (False,))], "a Tally: Distinct, Contains"

    # What was gone stays gone, whatever TTL a later touch gives the set: a set past its
    # expiry starts afresh, and a member past the set's TTL is not kept by a longer one.
    state.write([Touch("revived", ("a",), ttl=1_500, cap=10)], T0)
    state.write([Touch("revived", ("b",), ttl=3_000, cap=10)], T0 + 1_600)
    assert state.read([Members("revived"), Contains("revived", ("a", "b")),
                       Distinct("revived", FOREVER)], T0 + 1_600) == [("b",), (False, True), 1], \
        "a set past its expiry touched with a longer TTL"
    state.write([Touch("shortened", ("a",), ttl=3_000, cap=10)], T0)
    state.write([Touch("shortened", ("b",), ttl=1_000, cap=10)], T0 + 3_100)
    assert state.read([Members("shortened"), Distinct("shortened", FOREVER)], T0 + 3_100) == [
        ("b",), 1], "a set past its expiry touched with a shorter TTL"
    state.write([Touch("outlived", ("a",), ttl=1_500, cap=10)], T0)
    state.write([Touch("outlived", ("b",), ttl=1_500, cap=10)], T0 + 100)
    state.write([Touch("outlived", ("c",), ttl=3_000, cap=10)], T0 + 1_550)
    assert state.read([Members("outlived"), Contains("outlived", ("a", "b", "c")),
                       Distinct("outlived", FOREVER)], T0 + 1_600) == [
        ("b", "c"), (False, True, True), 2], "a member past the TTL, then a longer one"
    # A member still live at the touch is kept as long as the longer TTL says.
    state.write([Touch("extended", ("a",), ttl=1_500, cap=10)], T0)
    state.write([Touch("extended", ("b",), ttl=3_000, cap=10)], T0 + 1_000)
    assert state.read([Members("extended")], T0 + 2_000) == [("a", "b")], \
        "a live member kept by a longer TTL"

    # Members touched at one time sort by name, whichever writes touched them: a cap
    # then drops the same member in every backend.
    state.write([Touch("tie", ("b",), ttl=3600, cap=2)], T0)
    state.write([Touch("tie", ("a",), ttl=3600, cap=2)], T0)
    assert state.read([Members("tie")], T0) == [("a", "b")], "equal times in name order"
    state.write([Touch("tie", ("c",), ttl=3600, cap=2)], T0)
    assert state.read([Members("tie")], T0) == [("b", "c")], "cap among equal times"

    # An event older than the last touch moves no member back in time.
    state.write([Touch("late", ("x",), ttl=3600, cap=10)], T0 + 10)
    state.write([Touch("late", ("x", "y"), ttl=3600, cap=10)], T0)
    assert state.read([Members("late"), Distinct("late", 5)], T0 + 12) == [("y", "x"), 1], \
        "a touch from the past"

    # A window reaching back before 1970 (the takeover detector's count of contacts)
    # counts every member, and only members.
    state.write([Touch("ever", ("a", "b"), ttl=3600, cap=10)], T0)
    assert state.read([Distinct("ever", FOREVER)], T0 + 1) == [2], "a window past all time"

    # Members are whatever a sender names: the characters a backend might use to mark a
    # set's own bookkeeping (Redis: the bytes 0xff, 0xfe) are members like any other.
    names = ("\u00ff", "\u00fe", "\x00", "")
    state.write([Touch("marks", names, ttl=3600, cap=3)], T0)
    assert state.read([Distinct("marks", 3600), Contains("marks", names)], T0 + 1) == [
        3, (True, True, True, False)], "members named like a backend's markers"
    # (the cap drops one of four touched at once: the least by name, as Redis does)
    assert sorted(state.read([Members("marks")], T0 + 1)[0]) == ["\x00", "\u00fe", "\u00ff"]

    check_hashed(state)
    check_sided(state)
    check_guests(state)
    check_touches_together(state)
    check_log(state)
    check_last_touch(state)

    # A sweep drops only what has expired.
    state.write([Incr("keep", 1.0, ttl=10_000)], T0 + 20)
    state.sweep(T0 + 5000)
    assert state.read([Count("keep", 10_000)], T0 + 5000) == [1.0], "sweep kept live data"
    state.commit()
    # So does a lap of its parts, whose first part starts it and whose last ends it.
    state.write([Incr("kept", 1.0, ttl=10_000), Put("gone", 1, ttl=10)], T0 + 5000)
    for n in range(SWEEP_PARTS):
        state.sweep_part(T0 + 6000, n)
    assert state.read([Count("kept", 10_000), Count("keep", 10_000), Get("gone")],
                      T0 + 6000) == [1.0, 1.0, None], "a lap of parts kept live data"
    state.commit()
    # And keeps the count since the last maintenance pass given with its last part.
    assert state.since_pass() == SWEEP_PARTS - 1, "the count since the pass was not kept"


# (time touched, window, time read, whether a value put then with the window as its TTL is
# alive): the window's very edge, at 2**30 and 2**31 s, and times whose sum and difference
# round apart (the first two: ``now - window < ts`` would answer True; the next three:
# ``now - ts < window`` would), so ``ops.within``'s form is the one a ``Get`` answers by.
LAST_EDGES: tuple[tuple[float, float, float, bool], ...] = (
    (843.758916430461, 1800, 2643.758916430461, False),
    (1.9391554976148777, 0.3, 2.2391554976148775, False),
    (1073742758.2016904, 0.1, 1073742758.3016903, False),
    (2147484631.288879, 0.1, 2147484631.388879, False),
    (2147484147.1057115, 1800.7, 2147485947.8057113, False),
    (T0, 1800, T0 + 1800, False),
    (T0, 1800, 1700001799.9999998, True),
    (2.0**30, 1800, 2.0**30 + 1800, False),
    (2.0**30, 1800, 2.0**30 + 1799.5, True),
    (2.0**31, 1800, 2147485447.9999995, True),
    (2.0**31, 1800, 2.0**31 + 1800, False),
    (2.0**31 + 0.25, 1800.0, 2.0**31 + 0.25, True),
)


def check_last_touch(state: StateBackend) -> None:
    """A member's last touch (``LastTouch``) is its time where a value put at that touch,
    with the window as its TTL, is alive (``LAST_EDGES``), of a plain set and of a sided
    record's side, its head derived or held; a late touch moves no time back; a member
    past the set's TTL is gone, whatever the window; a hashed set, or a sided record asked
    with no side, is refused."""
    for i, (ts, window, now, alive) in enumerate(LAST_EDGES):
        # The side declaring a TTL of 200 touched with it (no head held), or, for a window
        # past that TTL, the side declaring none (its head held).
        side, ttl = (SIDES[1], 200.0) if window < 200 else (SIDES[2], 1e7)
        plain, record, value = f"last-plain:{i}", f"{SIDED}last{i}", f"last-value:{i}"
        state.write([Touch(plain, ("m", f"o{i}"), ttl, 10), Touch(record, ("m",), ttl, 10, side),
                     Put(value, ts, window)], ts)
        expected = ts if alive else None
        assert state.read([Get(value), LastTouch(plain, "m", window),
                           LastTouch(record, "m", window, side), LastTouch(plain, "x", window),
                           LastTouch(record, "m", window, SIDES[0])], now) == [
            expected, expected, expected, None, None], ("an edge of the window", i)
    state.write([Touch("last-late", ("m",), 1000, 10),
                 Touch(SIDED + "late", ("m",), 1000, 10, SIDES[2])], T0 + 100)
    state.write([Touch("last-late", ("m", "n"), 1000, 10),
                 Touch(SIDED + "late", ("m", "n"), 1000, 10, SIDES[2])], T0 + 50)
    assert state.read([LastTouch("last-late", "m", 60), LastTouch(SIDED + "late", "m", 60,
                                                                  SIDES[2]),
                       LastTouch("last-late", "n", 60), LastTouch(SIDED + "late", "n", 60,
                                                                  SIDES[2])], T0 + 112) == [
        T0 + 100, T0 + 100, None, None], "a late touch moves no time back"
    assert state.read([LastTouch("last-late", "m", FOREVER),
                       LastTouch(SIDED + "late", "m", FOREVER, SIDES[2])], T0 + 1_100) == [
        None, None], "gone with the set's TTL, whatever the window"
    for refused in (LastTouch(HASHED + "last", "m", 60), LastTouch(SIDED + "late", "m", 60)):
        try:
            state.read([refused], T0 + 105)
        except TypeError:
            continue
        raise AssertionError(f"{refused} was answered")


def check_log(state: StateBackend) -> None:
    """A log (``Append``/``Since``): numbered entries, the count read alone, a reader too
    far behind told so, one ahead of the count too (the log was lost and begun again),
    and entries named like a backend's own bookkeeping."""
    assert state.read([Since("log"), Since("log", 0)], T0) == [(0, ()), (0, ())], "no log"
    state.write([Append("log", ("a", "b"), keep=3)], T0)
    state.write([Append("log", ("c",), keep=3), Append("log", ("\x00", "\u00ff"), keep=3)],
                T0 + 1)
    assert state.read([Since("log")], T0) == [(5, ())], "the count alone"
    assert state.read([Since("log", 2), Since("log", 4), Since("log", 5), Since("log", 9)],
                      T0 + FOREVER / 2) == [(5, ("c", "\x00", "\u00ff")), (5, ("\u00ff",)),
                                            (5, ()), (5, None)], "entries after a number"
    assert state.read([Since("log", 1)], T0) == [(5, None)], "behind what the log keeps"
    state.commit()


def check_hashed(state: StateBackend) -> None:
    """Hashed sets answer Contains and Distinct as a set of names would whose members all
    share its last write's time; they cannot be listed."""
    h = HASHED + "s"
    state.write([Replace(h, ("a", "b", "\u00ff", ""), ttl=100)], T0)
    state.write([Touch(h, ("c", "a"), ttl=100, cap=6)], T0 + 10)
    assert state.read([Contains(h, ("a", "c", "\u00ff", "", "z")), Distinct(h, 5),
                       Distinct(h, FOREVER)], T0 + 20) == [
        (True, True, True, True, False), 0, 5], "a hashed set"
    # Past the cap, a touch admits its new members by name, and drops nobody.
    state.write([Touch(h, ("f", "e", "d", "a"), ttl=100, cap=6)], T0 + 11)
    assert state.read([Contains(h, ("a", "b", "d", "e", "f")), Distinct(h, 2)], T0 + 12) == [
        (True, True, True, False, False), 6], "a hashed set's cap"
    assert state.read([Tally(h, 2, ("a", "e"))], T0 + 12) == [(6, (True, False))], \
        "a Tally of a hashed set"
    # A touch from the past moves no time back; the set goes at its time plus its TTL.
    state.write([Touch(h, ("g",), ttl=100, cap=10)], T0 + 5)
    assert state.read([Distinct(h, 3), Contains(h, ("g",))], T0 + 13) == [7, (True,)], \
        "a hashed set touched from the past"
    assert state.read([Contains(h, ("a",)), Distinct(h, FOREVER)], T0 + 111) == [(False,), 0], \
        "a hashed set past its TTL"
    # A touch after the TTL starts afresh; a removal drops only its members.
    state.write([Touch(h, ("x", "y", "z"), ttl=100, cap=10), Remove(h, ("y",))], T0 + 200)
    assert state.read([Contains(h, ("a", "x", "y", "z")), Distinct(h, 1)], T0 + 200) == [
        (False, True, False, True), 2], "a hashed set touched again and removed from"
    try:
        state.read([Members(h)], T0 + 200)
    except TypeError:
        pass
    else:
        raise AssertionError("a hashed set was listed")
    state.write([Delete(h)], T0 + 201)
    assert state.read([Distinct(h, FOREVER)], T0 + 201) == [0], "a hashed set deleted"


def check_sided(state: StateBackend) -> None:
    """Each side of a sided record answers as a plain set of its own would: its TTL, cap
    and expiry its own; a member stays while any side holds it."""
    r = SIDED + "r"
    one, two, three = SIDES
    state.write([Touch(r, ("a", "b"), ttl=100, cap=10, side=one),
                 Touch(r, ("b", "c"), ttl=1_000, cap=10, side=two)], T0)
    assert state.read([Contains(r, ("a", "b", "c"), one), Contains(r, ("a", "b", "c"), two),
                       Contains(r, ("a",), three), Distinct(r, FOREVER, two),
                       Members(r, three)], T0 + 50) == [
        (True, True, False), (False, True, True), (False,), 2, ()], "sides of one record"
    # Side one's TTL runs out, side two's not: b stays on two, and is gone from one.
    assert state.read([Contains(r, ("a", "b"), one), Members(r, two), Distinct(r, FOREVER, one)],
                      T0 + 100) == [(False, False), ("b", "c"), 0], "a side past its TTL"
    state.write([Touch(r, ("c",), ttl=100, cap=10, side=one)], T0 + 150)
    assert state.read([Members(r, one), Members(r, two)], T0 + 150) == [("c",), ("b", "c")], \
        "a side past its expiry starts afresh; the others keep theirs"
    # A side's cap drops that side's stalest members only.
    state.write([Touch(r, ("d",), ttl=1_000, cap=2, side=two)], T0 + 160)
    assert state.read([Members(r, two), Contains(r, ("b", "c"), one)], T0 + 160) == [
        ("c", "d"), (False, True)], "a side's cap"
    # A late touch moves no time back.
    state.write([Touch(r, ("d",), ttl=1_000, cap=2, side=two)], T0 + 10)
    assert state.read([Distinct(r, 5, two)], T0 + 162) == [1], "a side touched from the past"
    for plain in (Contains(r, ("c",)), Distinct(r, 10), Members(r)):
        try:
            state.read([plain], T0 + 162)
        except TypeError:
            continue
        raise AssertionError(f"a sided record answered {plain} without a side")
    state.write([Delete(r)], T0 + 163)
    assert state.read([Members(r, one), Members(r, two)], T0 + 163) == [(), ()], "Delete"
    # Side one's declared TTL is 100: touched with 10, then late with 100, its expiry is
    # the late touch's (T0 + 200 + 50), sooner than its newest member's time plus its TTL
    # (T0 + 300): gone then, with every member, as a plain set's (``sided._derived``).
    state.write([Touch(r, ("a",), ttl=10, cap=10, side=one)], T0 + 200)
    state.write([Touch(r, ("b",), ttl=100, cap=10, side=one)], T0 + 150)
    assert state.read([Members(r, one), Members(r, one)], T0 + 240) == [("b", "a")] * 2
    assert state.read([Members(r, one), Distinct(r, FOREVER, one)], T0 + 260) == [(), 0], \
        "a late touch with a longer TTL keeps the expiry"
    state.write([Delete(r)], T0 + 261)
    check_sides_as_sets(state)
    check_sides_as_sets(state, steps=1500, crowd=150)


def _step_as_sets(state: StateBackend, model: MemoryState, rng: random.Random, now: float,
                  record: str, side: str, sides: Sequence[str], plain: str, people: list[str],
                  shapes: tuple[list[int], list[int]], shares: tuple[float, float]) -> bool:
    """One random step of the sides-as-sets checks: most often a touch of ``record``'s
    ``side`` (a size and a cap drawn from ``shapes``), sometimes a Delete of the whole
    record (below ``shares[0]``), in ``state`` and as the same writes to each side's plain
    set in ``model`` (named ``plain:record/side``); the state swept at ``now`` past
    ``shares[1]`` (whether it was)."""
    roll = rng.random()
    if roll < 0.7:
        members = tuple(rng.sample(people, rng.choice(shapes[0])))
        ttl, cap = rng.choice([60.0, 200.0, 500.0]), rng.choice(shapes[1])
        write: list[Write] = [Touch(record, members, ttl, cap, side)]
        expected: list[Write] = [Touch(f"{plain}:{record}/{side}", members, ttl, cap)]
    elif roll < shares[0]:
        write, expected = [Delete(record)], [Delete(f"{plain}:{record}/{s}") for s in sides]
    else:
        write = expected = []
    state.write(write, now)
    model.write(expected, now)
    if roll > shares[1]:
        state.sweep(now)
        return True
    return False


def check_guests(state: StateBackend, steps: int = 600) -> None:
    """Records of a guest keyspace answer as keys of their own wherever a backend keeps
    them: beside their host's own record and each other (a Delete of one leaves the
    others), with a host id holding ":" (split at the last) and with no ":" at all (no
    host), through sweeps; each side as a plain set of its own in the memory backend."""
    host, lodged = SIDED + "g", GUEST + "g:s1"
    one, two = GUEST_SIDES
    state.write([Touch(host, ("a",), ttl=100, cap=10, side=SIDES[0]),
                 Touch(lodged, ("b",), ttl=100, cap=10, side=one),
                 Touch(GUEST + "g:s2", ("c",), ttl=100, cap=10, side=two)], T0)
    state.write([Delete(lodged)], T0 + 1)
    assert state.read([Members(host, SIDES[0]), Members(lodged, one),
                       Members(GUEST + "g:s2", two)], T0 + 1) == [("a",), (), ("c",)], \
        "a guest's Delete removes it alone"
    state.write([Delete(host)], T0 + 2)
    assert state.read([Members(host, SIDES[0]), Members(GUEST + "g:s2", two)], T0 + 2) == [
        (), ("c",)], "a host's Delete leaves its guests"
    rng = random.Random(11)
    model = MemoryState()
    records = [(SIDED + "h", SIDES), *((GUEST + name, GUEST_SIDES) for name in (
        "h:x", "h:y", "h:x:y", "h:", ":h", "solo", "\u00ff:\u00ff"))]
    # Past 32 names, or past a few guests a host, a backend may keep a guest otherwise
    # (``ops.LODGED_NAMES``; the memory backend's ``_LODGED_GUESTS``; Redis's bounded hash).
    people = [f"p{i}" for i in range(48)] + ["\u00ff", ""]
    now = swept = T0 + 10_000
    for step in range(steps):
        now = max(now + rng.choice([0.0, 1.0, 7.0, 30.0, -40.0, 90.0, 300.0]), swept)
        record, sides = rng.choice(records)
        side = rng.choice(sides)
        plain = f"conformance-plain-guest:{record}/{side}"
        if _step_as_sets(state, model, rng, now, record, side, sides, "conformance-plain-guest",
                         people, ([1, 1, 2, 3, 30], [2, 3, 10, 40]), (0.75, 0.95)):
            swept = now
        later = now + rng.choice([0.0, 20.0, 100.0])
        asked = tuple(rng.sample(people, 3))
        window = rng.choice([10.0, 100.0, FOREVER])
        reads: list[Query] = [Contains(record, asked, side), Distinct(record, window, side),
                              Members(record, side), LastTouch(record, asked[0], window, side)]
        references: list[Query] = [Contains(plain, asked), Distinct(plain, window),
                                   Members(plain), LastTouch(plain, asked[0], window)]
        assert state.read(reads, later) == model.read(references, later), (step, reads)


def check_sides_as_sets(state: StateBackend, steps: int = 400, crowd: int = 6) -> None:
    """Random touches of the sides of a few records (late events, changing TTLs, caps,
    sweeps, deletes) answer as the same touches of plain sets in the memory backend. No
    event is older than the last sweep: what a touch older than a sweep finds depends on
    what the backend's sweep dropped, for plain sets too. A ``crowd`` of people far
    past a few makes records as large as a busy account's (a backend may keep those
    otherwise: ``sided._Index``), and caps that hold most of them."""
    rng = random.Random(18 + crowd)
    model = MemoryState()
    people = [f"p{i}" for i in range(crowd)] + ["\u00ff", ""]
    sizes, caps = [1, 1, 2, 3, max(crowd // 4, 1)], [2, 3, 10] + [crowd] * (crowd // 6)
    now = swept = T0 + 10_000
    for step in range(steps):
        now = max(now + rng.choice([0.0, 0.0, 1.0, 7.0, 30.0, -40.0, 90.0, 300.0]), swept)
        record, side = f"{SIDED}{crowd}{rng.choice('xy')}", rng.choice(SIDES)
        plain = f"conformance-plain:{record}/{side}"
        if _step_as_sets(state, model, rng, now, record, side, SIDES, "conformance-plain",
                         people, (sizes, caps), (0.74, 0.97)):
            swept = now
        later = now + rng.choice([0.0, 20.0, 100.0])
        asked = tuple(rng.sample(people, 3))
        window = rng.choice([10.0, 100.0, FOREVER])
        reads: list[Query] = [Contains(record, asked, side), Distinct(record, window, side),
                              Members(record, side), LastTouch(record, asked[0], window, side),
                              Tally(record, window, asked, side)]
        references: list[Query] = [Contains(plain, asked), Distinct(plain, window),
                                   Members(plain), LastTouch(plain, asked[0], window),
                                   Distinct(plain, window), Contains(plain, asked)]
        found, expected = state.read(reads, later), model.read(references, later)
        assert found == [*expected[:4], tuple(expected[4:])], (step, reads)


def check_touches_together(state: StateBackend, steps: int = 400) -> None:
    """Several writes in one call (touches of one record's sides, a side twice, with
    touches of another record, a value lodged in the record, a guest of it, now and then a
    Delete of it, between them) answer as the same writes of plain sets in the memory
    backend, each in turn: a backend may apply one call's touches of one record in one
    pass (``memory._folded``, as a message's of its sender's ties), never otherwise than
    one after the other would."""
    rng = random.Random(29)
    model = MemoryState()
    people = [f"p{i}" for i in range(7)] + ["\u00ff", ""]
    ids = ("t1", "t2")
    now = T0 + 10_000
    for step in range(steps):
        now += rng.choice([0.0, 0.0, 1.0, 7.0, 30.0, 90.0, -5.0])
        writes: list[Write] = []
        expected: list[Write] = []
        for _ in range(rng.choice([2, 3, 4, 6])):
            at, roll = rng.choice(ids), rng.random()
            record, sides = ((SIDED + at, SIDES) if roll < 0.8
                             else (GUEST + at + ":s", GUEST_SIDES))
            if roll < 0.9:
                side, members = rng.choice(sides), tuple(rng.sample(people, rng.choice(
                    [0, 1, 1, 2, 3])))
                ttl, cap = rng.choice([60.0, 200.0, 500.0]), rng.choice([1, 2, 3, 10])
                writes.append(Touch(record, members, ttl, cap, side))
                expected.append(Touch(f"conformance-plain-together:{record}/{side}", members,
                                      ttl, cap))
            elif roll < 0.97:
                put = Put(LODGED + at, step, rng.choice([50.0, 500.0]))
                writes.append(put)
                expected.append(put)
            else:
                writes.append(Delete(SIDED + at))
                expected += [Delete(f"conformance-plain-together:{SIDED}{at}/{side}")
                             for side in SIDES]
        state.write(writes, now)
        model.write(expected, now)
        later = now + rng.choice([0.0, 20.0, 100.0])
        asked = tuple(rng.sample(people, 3))
        reads: list[Query] = [Get(LODGED + at) for at in ids]
        references: list[Query] = list(reads)
        for at in ids:
            for record, sides in ((SIDED + at, SIDES), (GUEST + at + ":s", GUEST_SIDES)):
                for side in sides:
                    plain = f"conformance-plain-together:{record}/{side}"
                    reads += [Contains(record, asked, side), Distinct(record, 50.0, side),
                              Members(record, side)]
                    references += [Contains(plain, asked), Distinct(plain, 50.0),
                                   Members(plain)]
        assert state.read(reads, later) == model.read(references, later), (step, writes)
