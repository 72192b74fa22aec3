"""The memory backend's names held once by its own tables (``memory._Names``, session 38):
an account's id by its record (``_Account.id``), any other name in the store's ``loose``
table, where each was ``sys.intern``'s, whose table held a slot an account id beside the
records' own (38 bytes an account at 100,000). Every test fails on main: its names are
the interpreter's interned ones, and it has no ``_names``."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from itertools import pairwise

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state import memory
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Delete, Members, Replace, Touch

DAY = 86_400.0


def _prune_all(names: memory._Names) -> None:
    """Check every loose name now (``_Names._check``): the names of a check under way,
    then a check of all it holds."""
    for _ in range(2):
        names.prune_at = 0
        names._check(len(names.loose) + len(names.checking))


def _names_held(state: MemoryState) -> Iterator[str]:
    """Every name string the store holds: its records' keys and names, its member sets'
    members, its loose names."""
    for home in state._homes.values():
        for key, record in home.records.items():
            yield key
            yield from record.names
    for held in state._members.values():
        yield from held if held.__class__ is memory._Held else held[0]  # type: ignore[union-attr]
    yield from state._names.loose


def _one_string_each(state: MemoryState) -> dict[str, str]:
    """The store's names, checked held once each (one object a value) and none of them
    the interpreter's interned string (``sys.intern`` of a fresh copy hands the copy
    back); the names by value."""
    held: dict[str, str] = {}
    for name in _names_held(state):
        assert held.setdefault(name, name) is name, name
    for name in held:
        copy = "".join(list(name))
        assert sys.intern(copy) is copy, name
    return held


def test_a_member_name_is_its_accounts_key_and_id_whichever_came_first() -> None:
    """One account named by another before it had a record, one after: each record is
    keyed by the very string the other's ties hold, which is its ``id``; a member set
    naming them holds the same strings."""
    state = MemoryState()
    first, second = "".join(["@first", ":s"]), "".join(["@second", ":s"])
    state.write([Touch(accounts.tie_record(first), (second,), side=accounts.TALKED)], T0)
    state.write([Touch(accounts.tie_record(second), ("".join(["@first", ":s"]),),
                       side=accounts.TALKED),
                 Touch("watch:x", ("".join(["@second", ":s"]), "@third:s"))], T0 + 1)
    records = state._ids
    for name in (first, second):
        key = next(key for key in records if key == name)
        assert records[key].id is key
    assert state.sided_record(accounts.tie_record(first)).names[0] is records[second].id  # type: ignore[union-attr]
    assert state.sided_record(accounts.tie_record(second)).names[0] is records[first].id  # type: ignore[union-attr]
    assert list(state._names.loose) == ["@third:s"]  # the one name no account holds
    _one_string_each(state)


def test_a_swept_accounts_id_stays_the_one_string_while_others_name_it() -> None:
    """An account whose own record is swept while another's ties still name it: its id
    moves to ``loose``, and a later touch naming it, or its new record, holds that string."""
    state = MemoryState()
    gone, stays = "@gone:s", "@stays:s"
    state.write([Touch(accounts.tie_record(gone), ("@x:s",), 10.0, 10, accounts.TALKED)], T0)
    state.write([Touch(accounts.tie_record(stays), (gone,), DAY, 10, accounts.TALKED)], T0)
    held_as = state._ids[gone].id
    state.sweep(T0 + 100.0)
    assert gone not in state._ids and state._names.loose[gone] is held_as
    state.write([Touch("watch:y", ("".join(["@gone", ":s"]),)),
                 Touch(accounts.tie_record("".join(["@gone", ":s"])), ("@x:s",),
                       side=accounts.TALKED)], T0 + 200.0)
    assert state._ids[gone].id is held_as and gone not in state._names.loose
    assert state.read([Members("watch:y")], T0 + 200.0)[0][0] is held_as
    _one_string_each(state)


def test_loose_names_nothing_holds_go_at_a_prune_and_its_table_stays_bounded() -> None:
    """5,000 one-shot correspondents into a record capped at 50: ``loose`` never holds
    more than its checks' bound, each name taken in checks at most ``_CHECKED_EACH`` (no
    call walks the table), and a check of all keeps exactly the names still held (the
    record's 50; ``_ONLY_LOOSE`` is CPython's count of a name the table alone holds)."""
    state = MemoryState()
    ties = accounts.tie_record("@a:s")
    most = 0
    for n in range(5_000):
        before = len(state._names.checking)
        state.write([Touch(ties, (f"@one{n}:s",), DAY, 50, accounts.TALKED)], T0 + n)
        most = max(most, len(state._names.loose))
        assert len(state._names.checking) >= before - memory._CHECKED_EACH
    # (checking begins at _LOOSE_LEAST, and ends before half as many again are taken in)
    assert most <= memory._LOOSE_LEAST * 3 // 2
    _prune_all(state._names)
    record = state.sided_record(ties)
    assert record is not None and len(record.names) == 50
    assert set(state._names.loose) == set(record.names)
    assert all(state._names.loose[name] is name for name in record.names)


def test_everything_swept_or_deleted_leaves_no_name_behind_a_prune() -> None:
    """Accounts, sessions, member sets and replaced sets, then all of it deleted or swept:
    the records' table is empty, and a prune empties ``loose`` but for the names the
    decoded sessions' cache (``_guests_read``, at most ``_PLACES_KEPT``) still holds."""
    state = MemoryState()
    people = [f"@p{n}:s" for n in range(30)]
    state.write([Touch(accounts.tie_record(p), (q,), 50.0, 10, accounts.TALKED)
                 for p, q in pairwise(people)], T0)
    state.write([Touch(keys.lifelong(people[0], "s1"), tuple(people[:3]), 50.0, 10,
                       keys.PALS),
                 Replace("set:r", tuple(people[5:9]), 50.0),
                 Touch("set:t", tuple(people[10:14]), 50.0)], T0)
    _one_string_each(state)
    state.write([Delete(accounts.tie_record(people[0]))], T0 + 1)
    state.sweep(T0 + 1_000.0)
    assert not state._ids and not state._members
    del people  # (this test's own references: the names' last but the store's)
    _prune_all(state._names)
    cached = {name for _, record in state._guests_read.values() for name in record.names}
    assert set(state._names.loose) == cached  # the session decoded (a bounded cache) names them
    del cached
    state._guests_read.clear()
    _prune_all(state._names)
    assert not state._names.loose


def test_random_writes_hold_each_name_once_and_none_interned() -> None:
    """Seeded touches of accounts' ties, sessions and member sets, replaces, deletes and
    sweeps over a few dozen names made afresh at each write (as a decoded event's are):
    after each write every name the store holds is one string, none of them
    ``sys.intern``'s, and an account's record holds its key as its ``id``."""
    rng = random.Random(38)
    state = MemoryState()
    people = [f"@r{n}:s" for n in range(40)]

    def fresh(count: int) -> tuple[str, ...]:
        return tuple("".join(list(rng.choice(people))) for _ in range(count))

    now = T0
    for _ in range(600):
        now += rng.choice([1.0, 5.0, 60.0])
        kind = rng.randrange(6)
        if kind == 0:
            write = Touch(accounts.tie_record(fresh(1)[0]), fresh(rng.choice([1, 1, 3])),
                          rng.choice([30.0, DAY]), rng.choice([5, 50]), accounts.TALKED)
        elif kind == 1:
            write = Touch(keys.lifelong(fresh(1)[0], "s1"), fresh(2), 100.0, 10, keys.PALS)
        elif kind == 2:
            write = Touch(f"set:{rng.randrange(3)}", fresh(rng.choice([1, 4])), 100.0, 8)
        elif kind == 3:
            write = Replace(f"set:{rng.randrange(3)}", fresh(3), 100.0)
        elif kind == 4:
            write = Delete(accounts.tie_record(fresh(1)[0]))
        else:
            state.sweep(now)
            continue
        state.write([write], now)
        _one_string_each(state)
        assert all(record.id is key for key, record in state._ids.items())
