"""A session's record lodged in its account's object (memory backend, ``_Account``): its
three lengths in two bytes each and its names each ended by a NUL (session 31), where
four bytes each and a 4-byte length a name were ~19 bytes an account; a record whose
names hold a NUL is one of its own, answering the same."""

from __future__ import annotations

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Touch

TIES, S1 = accounts.tie_record("@a:s"), keys.lifelong("@a:s", "s1")
# Names of every kind a client may send: ASCII, another script, a lone surrogate (JSON
# decodes one), the empty name.
NAMES = ("@b:s", "@\u00e9l\u00e8ve:s", "@\udc80:s", "", "@" + "x" * 200 + ":s")


def test_a_lodged_sessions_record_holds_two_byte_lengths_and_nul_ended_names() -> None:
    state = MemoryState()
    state.write([Touch(S1, NAMES, 50.0, 10, keys.PALS)], T0)
    host = state.accounts()[TIES]
    [(name, record)] = host.guest_items()
    assert name == b"s1" and record.names == NAMES
    names = sum(len(n.encode("utf-8", "surrogatepass")) + 1 for n in NAMES)
    assert len(host.guests) == 6 + len(b"s1") + names + len(record.times), (
        "6 bytes of lengths, a NUL a name")
    members, found, count = state.read([Members(S1, keys.PALS),
                                        Contains(S1, NAMES[1:3], keys.PALS),
                                        Distinct(S1, 100.0, keys.PALS)], T0 + 1)
    assert sorted(members) == sorted(NAMES) and found == (True, True) and count == 5


def test_a_sessions_record_whose_names_hold_a_nul_is_a_record_of_its_own() -> None:
    """A NUL ends a lodged name, so a record naming one is not lodged; it answers the
    same, and leaves the account's object when it grows one (a lodged one before)."""
    state = MemoryState()
    state.write([Touch(S1, ("@b:s",), 50.0, 10, keys.PALS)], T0)
    assert [name for name, _ in state.accounts()[TIES].guest_items()] == [b"s1"]
    state.write([Touch(S1, ("@n\0ul:s",), 50.0, 10, keys.PALS)], T0 + 1)
    assert state.accounts().get(TIES) is None or not state.accounts()[TIES].guest_items()
    record = state.sided_record(S1)
    assert record is not None and record.names == ("@b:s", "@n\0ul:s")
    assert state.read([Members(S1, keys.PALS), Contains(S1, ("@n\0ul:s", "@b"), keys.PALS)],
                      T0 + 2) == [("@b:s", "@n\0ul:s"), (True, False)]
