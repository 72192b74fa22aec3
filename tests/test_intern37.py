"""The memory backend holds each account id once, in its own tables (session 37,
``intern37``): an account's id is its record's key and ``_Account.id``, the very string
the others' records hold as a member name; a name no account holds is in the store's
``_names``, which a sweep's lap prunes. Nothing goes through ``sys.intern`` (whose table
was a second entry an account id: 38.4 bytes an account at 100,000)."""

from __future__ import annotations

import sys

from spimguard import accounts
from spimguard.state.memory import MemoryState
from spimguard.state.ops import SWEEP_PARTS, Replace, Touch

_T = 1_000_000.0


def _fresh(text: str) -> str:
    """An equal string that is no other object (not a literal, which the compiler interns)."""
    return "".join(list(text))


def _talked(state: MemoryState, sender: str, recipients: tuple[str, ...], now: float,
            cap: int = 10_000) -> None:
    state.write([Touch(accounts.tie_record(_fresh(sender)), tuple(map(_fresh, recipients)),
                       cap=cap, side=accounts.TALKED)], now)


def _held_names(state: MemoryState) -> list[str]:
    return [name for host in state._accounts.values() for name in host.names]


def test_a_member_name_is_the_string_its_accounts_record_is_keyed_by() -> None:
    state = MemoryState()
    _talked(state, "alice1", ("bob1",), _T)  # bob named before he has a record
    _talked(state, "bob1", ("alice1",), _T + 1)
    _talked(state, "carol1", ("alice1", "bob1"), _T + 2)
    keys = {key: key for key in state._accounts}
    for name in _held_names(state):
        assert name is keys[name] is state._accounts[name].id
    assert state._names == {}  # every name held is an account's id


def test_no_name_the_store_holds_is_in_the_interpreters_intern_table() -> None:
    state = MemoryState()
    _talked(state, "dave2", ("erin2", "frank2"), _T)
    state.write([Replace("plain:set2", (_fresh("gina2"),))], _T)
    held = _held_names(state) + list(state._accounts)
    assert sorted(held) == ["dave2", "erin2", "frank2"]
    for name in held:
        assert sys.intern(_fresh(name)) is not name  # main interned each
    assert state._names["gina2"] is state._members["plain:set2"].names[0]


def test_a_sweep_of_everything_leaves_the_ids_tables_empty() -> None:
    state = MemoryState()
    for n in range(300):
        _talked(state, f"s{n}", (f"r{n}", f"r{n + 1}"), _T)
    assert len(state._accounts) == 300 and len(state._names) == 301
    state.sweep(_T + 10 * 365 * 86400.0)
    assert state._accounts == {} and state._names == {}


def test_a_lap_of_sweep_parts_prunes_the_names_no_record_holds() -> None:
    """A million one-shot senders to one account whose ties keep 50: the names its record
    dropped leave the store's table at the lap's end, not with the interpreter's."""
    state = MemoryState()
    _talked(state, "victim3", ("first3",), _T)
    for n in range(2_000):  # the victim's ties name each sender, kept to its cap
        _talked(state, "victim3", (f"oneshot{n}",), _T + n / 1000, cap=50)
    victim = state._accounts["victim3"]
    assert len(victim.names) == 50
    assert len(state._names) == 2_001  # held until the lap's end
    for part in range(SWEEP_PARTS):
        state.sweep_part(_T + 3.0, part)
    assert sorted(state._names) == sorted(victim.names)
    assert all(state._names[name] is name for name in victim.names)


def test_a_swept_accounts_id_named_by_others_stays_one_string() -> None:
    """An account whose own record is swept while others still name it: its id moves to
    the names' table, so a new touch of it holds the same string, not a second copy."""
    state = MemoryState()
    _talked(state, "henry4", ("ivy4",), _T, cap=10)
    state.write([Touch(accounts.tie_record("ivy4"), (_fresh("henry4"),), ttl=86400.0 * 400,
                       side=accounts.TALKED)], _T + 86400.0 * 300)
    named = state._accounts["ivy4"].names[0]
    state.sweep(_T + 86400.0 * 301)  # henry's own ties gone, ivy's (naming him) kept
    assert "henry4" not in state._accounts and state._names == {"henry4": "henry4"}
    _talked(state, "jack4", ("henry4",), _T + 86400.0 * 302)
    assert state._accounts["jack4"].names[0] is named
