"""MemoryState's packed member sets: the shapes its fast paths take answer as a plain model."""

from __future__ import annotations

import random
from typing import Any

import msgspec

from spimguard import accounts
from spimguard.detectors.takeover import keys as takeover_keys
from spimguard.state.memory import _PACKED, MemoryState
from spimguard.state.ops import (
    Contains,
    Delete,
    Distinct,
    Get,
    Members,
    Put,
    Remove,
    Replace,
    Tally,
    Touch,
    hashed_keyspace,
    lodged_keyspace,
    lodged_prefixes,
    sided_keyspace,
)

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


# An account's keys as the memory backend holds them in one object (``memory._Account``):
# a host sided keyspace, a value and a hashed set lodged in it; and the same kinds of key
# not lodged, to answer as the model.
_HOST = sided_keyspace("mem-host:", {"mem-a": "", "mem-b": ""})
_LODGED_VALUE = lodged_keyspace("mem-value:", _HOST, field="mem-v")
_LODGED_OTHER = lodged_keyspace("mem-other:", _HOST, field="mem-w")  # a slot after the set's
_LODGED_SET = lodged_keyspace(hashed_keyspace("mem-set:"), _HOST, field="mem-s")
_PLAIN_SET = hashed_keyspace("mem-plain-set:")


def _plain(key: str) -> str:
    """The key the model keeps in place of ``key``: a key of its own, of the same kind (the
    host's own key: the model's holds nothing lodged)."""
    for lodged, plain in ((_LODGED_VALUE, "mem-plain-value:"), (_LODGED_SET, _PLAIN_SET),
                          (_LODGED_OTHER, "mem-plain-other:")):
        if key.startswith(lodged):
            return plain + key[len(lodged):]
    return key


def _as_plain(op: Any) -> Any:
    return msgspec.structs.replace(op, key=_plain(op.key))


def test_lodged_keys_answer_as_keys_of_their_own_and_go_when_they_expire() -> None:
    """Values and hashed sets lodged in an account's object answer every query, write,
    delete, expiry and sweep as keys of their own; so does the record beside them; a
    sweep past every expiry leaves nothing of the account held."""
    rng = random.Random(18)
    state, model = MemoryState(b"k" * 16), MemoryState(b"k" * 16)  # one key: the same digests
    ids, people = ["u1", "u2"], ["p1", "p2", "p3", "p4"]
    now = T0
    for step in range(2_500):
        now += rng.choice([0.0, 1.0, 30.0, 200.0, -10.0])
        who = rng.choice(ids)
        value, contacts, ties = _LODGED_VALUE + who, _LODGED_SET + who, _HOST + who
        other = _LODGED_OTHER + who
        some = tuple(rng.sample(people, rng.choice([1, 1, 2])))
        ttl = rng.choice([100.0, 400.0, 1_000.0])
        writes = rng.choice([
            [Put(value, {"step": step}, ttl=ttl)], [Put(value, b"\xff" * step, ttl=ttl)],
            [Delete(value)], [Touch(contacts, some, ttl=ttl, cap=3)],
            [Replace(contacts, some, ttl=ttl)], [Remove(contacts, some[:1])],
            [Delete(contacts)], [Put(other, step, ttl=ttl / 2)], [Delete(other)],
            [Put(value, step, ttl=ttl), Put(other, -step, ttl=ttl), Delete(value)],
            [Touch(ties, some, ttl=ttl, cap=3, side="mem-a")],
            [Touch(ties, some, ttl=ttl, cap=2, side="mem-b")], [Delete(ties)]])
        state.write(writes, now)
        model.write([_as_plain(op) for op in writes], now)
        if rng.random() < 0.05:
            state.sweep(now)
            model.sweep(now)
        later = now + rng.choice([0.0, 50.0, 500.0])
        asked = tuple(rng.sample(people, 2))
        reads = [q for account in ids for q in (
            Get(_LODGED_VALUE + account), Get(_LODGED_OTHER + account),
            Contains(_LODGED_SET + account, asked),
            Distinct(_LODGED_SET + account, 300.0),
            Members(_HOST + account, "mem-a"), Tally(_HOST + account, 300.0, asked, "mem-b"))]
        assert state.read(reads, later) == model.read([_as_plain(q) for q in reads], later), step
        for account in ids:
            for key in (_LODGED_VALUE + account, _LODGED_SET + account,
                        _LODGED_OTHER + account):
                assert (state.value(key), state.hashed_set(key)) == (
                    model.value(_plain(key)), model.hashed_set(_plain(key))), step
    state.sweep(now + 2_000.0)
    assert not state.accounts(), "an account whose keys all expired is let go"


def test_a_hosts_record_and_its_lodged_keys_are_forgotten_apart() -> None:
    """A durable store's cache forgets keys one at a time (``SQLiteState``): forgetting an
    account's record keeps what is lodged in it, and the other way round."""
    state = MemoryState()
    ties, value = _HOST + "u", _LODGED_VALUE + "u"
    state.write([Touch(ties, ("p",), ttl=100.0, cap=3, side="mem-a"),
                 Put(value, 7, ttl=100.0)], T0)
    state.forget(ties)
    assert state.read([Get(value), Members(ties, "mem-a")], T0) == [7, ()]
    assert state.sided_record(ties) is None
    state.write([Touch(ties, ("q",), ttl=100.0, cap=3, side="mem-a")], T0)
    state.forget(value)
    assert state.read([Get(value), Members(ties, "mem-a")], T0) == [None, ("q",)]
    state.forget(ties)
    assert not state.accounts(), "an account holding nothing is let go"


# A lodged keyspace with keyspaces of its own under its prefix (``besides``), one of them
# lodged too (as ``tk:`` beside ``tk:to:``, ...).
_WIDE_HOST = sided_keyspace("mem-wide-host:", {"mem-w": ""})
_WIDE = lodged_keyspace("mem-wide:", _WIDE_HOST, field="mem-wide",
                        besides=("mem-wide:own:", "mem-wide:deep:"))
_DEEP = lodged_keyspace("mem-wide:deep:", _WIDE_HOST, field="mem-deep")


def test_keys_beside_a_lodged_prefix_are_keys_of_their_own() -> None:
    """A key under a lodged keyspace's ``besides`` is told from it by its prefix alone
    (``lodged_prefixes``) and kept as a key of its own, unless another keyspace lodges it."""
    _, never = lodged_prefixes()
    assert "mem-wide:own:" in never and "mem-wide:deep:" not in never
    state = MemoryState()
    keys = (_WIDE + "u", "mem-wide:own:u", _DEEP + "u")
    state.write([Put(key, at, ttl=100.0) for at, key in enumerate(keys)], T0)
    assert state.read([Get(key) for key in keys], T0) == [0, 1, 2]
    assert list(state._values) == ["mem-wide:own:u"]
    assert list(state.accounts()) == [_WIDE_HOST + "u"]
    state.write([Put(key, -at, ttl=100.0) for at, key in enumerate(keys)], T0)
    assert state.read([Get(key) for key in keys], T0) == [0, -1, -2]


def test_an_accounts_object_is_held_by_the_string_naming_it_among_others_ties() -> None:
    """An account's object is keyed by its id, the very string (interned) that names it
    among the other accounts' ties, not by a ``ties:<id>`` string of its own; a session's
    record is lodged in it, by the session's name."""
    state = MemoryState()
    one, other = "".join(["@one", ":example.org"]), "".join(["@other", ":example.org"])
    state.write([Touch(accounts.tie_record(one), (other,), side=accounts.TALKED),
                 Touch(accounts.tie_record(other), (one,), side=accounts.TALKED)], T0)
    held = {name: name for name in state._homes[accounts.tie_record("")].records}
    named = state.sided_record(accounts.tie_record(other))
    assert named is not None and held[one] is named.names[0]
    assert state.read([Members(accounts.tie_record(one), accounts.TALKED)], T0) == [(other,)]
    state.write([Touch(takeover_keys.lifelong(one, "s1"), (other,), side=takeover_keys.PALS)], T0)
    # A session's record is lodged in its account's object (``ops.guest_keyspace``).
    assert not state._homes[takeover_keys.lifelong("", "")[:-1]].records
    assert list(state.accounts()) == [accounts.tie_record(one), accounts.tie_record(other)]
    assert [name for name, _ in state.accounts()[accounts.tie_record(one)].guest_items()] == [
        b"s1"]
