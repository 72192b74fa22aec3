"""A session's record lodged in its account's object (memory backend, ``_Account``) holds
each name its account's ties hold as its place among them: one byte for the first eleven,
two for the next 245, where each name was spelt out (its UTF-8 and a NUL, ~8 bytes with
the quiet load's ids; session 39, ``resident39``). Names no tie holds are spelt out as
before. A change of the account's names other than names added at their end (a cap's or
a TTL's drop, a sweep, a forget) places the guests' names again, so every answer is what
a record of its own gives."""

from __future__ import annotations

import pickle
import random

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state import sided
from spimguard.state.conformance import T0
from spimguard.state.memory import (
    _GUEST,
    MemoryState,
    _Account,
    _guest_names,
    _guest_names_read,
)
from spimguard.state.ops import LastTouch, Members, Touch

ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)
GUESTS = tuple(keys.lifelong(ACCOUNT, f"s{n}") for n in range(1, 5))
# Names of every kind a client may send: ASCII, another script, a lone surrogate (JSON
# decodes one), the empty name, a long one.
ODD = ("@\u00e9l\u00e8ve:s", "@\udc80:s", "", "@" + "x" * 200 + ":s")
PEOPLE = (*(f"@p{n}:s" for n in range(24)), *ODD)


def _spelt(name: str) -> int:
    return len(name.encode("utf-8", "surrogatepass")) + 1


def _placed(host: tuple[str, ...], names: tuple[str, ...]) -> int:
    """The bytes a lodged guest's names take in an account of names ``host``."""
    return sum(1 if name in host[:11] else 2 if name in host[:256] else _spelt(name)
               for name in names)


def test_a_lodged_sessions_names_among_its_ties_are_a_byte_each() -> None:
    """Three of the session's four correspondents are the account's ties: three bytes,
    and the fourth spelt out; the record reads back the same."""
    state = MemoryState()
    ties = ("@b:s", "@c:s", "@d:s", "@e:s")
    state.write([Touch(TIES, ties, 1_000.0, 10, accounts.TALKED)], T0)
    session = ("@d:s", "@b:s", "@z:s", "@e:s")
    state.write([Touch(GUESTS[0], session, 50.0, 10, keys.PALS)], T0 + 1)
    host = state.accounts()[TIES]
    [(name, record)] = host.guest_items()
    assert name == b"s1" and record.names == session
    assert len(host.guests) == _GUEST.size + len(b"s1") + 3 + _spelt("@z:s") + len(
        record.times), "a byte a tie, the other spelt out"
    assert sorted(state.read([Members(GUESTS[0], keys.PALS)], T0 + 2)[0]) == sorted(session)


def test_guest_names_read_back_from_every_place_and_kind() -> None:
    """Near places (one byte), far ones (two), names past the 256th place or held by no
    tie, of every kind: read back in order, each taking the bytes its kind says, and the
    names spelt out counted as the guest's bound (``_GUEST_BYTES``) counts them."""
    ties = tuple(f"@t{n}:s" for n in range(300))
    host = sided.Record(ties, b"")  # (an index: past ``sided._INDEXED`` names)
    assert host.index is not None
    names = ("@t0:s", "@t10:s", "@t11:s", "@t255:s", "@t256:s", "@t299:s", *ODD, "@t3:s")
    placed = _guest_names(names, host)
    assert placed is not None
    blob, spelt = placed
    assert spelt == sum(map(_spelt, names))
    assert len(blob) == 1 + 1 + 2 + 2 + _spelt("@t256:s") + _spelt("@t299:s") + sum(
        map(_spelt, ODD)) + 1
    assert _guest_names_read(blob, host.names) == names
    near = _guest_names(("@t4:s", "@t0:s"), host)
    assert near is not None and near[0] == bytes((0xF9, 0xF5))
    assert _guest_names_read(near[0], host.names) == ("@t4:s", "@t0:s")
    assert _guest_names(("@n\0ul:s",), host) is None


def test_an_account_pickled_keeps_its_guests_places() -> None:
    state = MemoryState()
    state.write([Touch(TIES, PEOPLE[:14], 1_000.0, 40, accounts.TALKED)], T0)
    state.write([Touch(GUESTS[0], (PEOPLE[13], PEOPLE[0], "@q:s"), 50.0, 10, keys.PALS)],
                T0 + 1)
    host = state.accounts()[TIES]
    made = pickle.loads(pickle.dumps(host))
    assert made.held == host.held and made.guest_items() == host.guest_items()
    _check_layout(made)  # two of its three names placed, the third spelt out


def test_guests_answer_as_sets_of_their_own_through_drops_and_sweeps() -> None:
    """Seeded: the account's ties touched with caps and TTLs that drop names (which moves
    the places after them), its sessions touched naming ties and others, sweeps; after
    each step every side answers as a plain set of its own (the model), and every lodged
    guest's names take the bytes their places say."""
    for seed in (39, 391, 392):
        rng = random.Random(seed)
        memory, model = MemoryState(), MemoryState()
        now, replaced = T0, 0
        for step in range(300):
            now += rng.choice((0.0, 1.0, 7.0, 60.0, 400.0))
            roll = rng.random()
            if roll < 0.4:
                key, side = TIES, rng.choice((accounts.TALKED, accounts.OWNER_WROTE))
                ttl = rng.choice((accounts.TALKED_TTL, 300.0, 2_000.0))
                cap = rng.choice((2, 3, 6, 40))
            elif roll < 0.9:
                key, side = rng.choice(GUESTS), rng.choice((keys.PALS, keys.LIFE))
                ttl, cap = rng.choice((500.0, 5_000.0)), rng.choice((2, 5, 10))
            else:
                memory.sweep(now)
                model.sweep(now)
                continue
            members = tuple(rng.sample(PEOPLE, rng.choice((1, 1, 2, 3))))
            before = memory.accounts().get(TIES)
            held = None if before is None else (before.names, before.guests)
            memory.write([Touch(key, members, ttl, cap, side)], now)
            model.write([Touch(f"plain:{key}/{side}", members, ttl, cap)], now)
            host = memory.accounts().get(TIES)
            if host is not None and key != TIES:  # the guest written: placed as they are
                _check_layout(host, key.rsplit(":", 1)[1].encode())
            elif host is not None and held is not None and held[1] != host.guests:
                replaced += 1  # the ties' names changed, not only at their end: all placed
                _check_layout(host)
            asks = rng.sample(PEOPLE, 3)
            for key, sides in ((TIES, (accounts.TALKED, accounts.OWNER_WROTE)),
                               *((guest, (keys.PALS, keys.LIFE)) for guest in GUESTS)):
                for side in sides:
                    twin = f"plain:{key}/{side}"
                    got = memory.read([Members(key, side),
                                       *(LastTouch(key, m, 1e9, side) for m in asks)], now)
                    expected = model.read([Members(twin), *(LastTouch(twin, m, 1e9)
                                                            for m in asks)], now)
                    assert sorted(got[0]) == sorted(expected[0]) and got[1:] == expected[1:], (
                        seed, step, key, side)
        assert replaced > 5, "ties' drops moved the guests' places"


def _check_layout(host: _Account, only: bytes | None = None) -> None:
    """Each lodged guest's names (``only``'s, if given) take the bytes their places among
    ``host``'s names say."""
    blob, at = host.held, host._guests_at()
    while at < len(blob):
        size, names, times = _GUEST.unpack_from(blob, at)
        start = at + _GUEST.size + size
        if only in (None, blob[start - size:start]):
            held = _guest_names_read(blob[start:start + names], host.names)
            assert names == _placed(host.names, held)
        at = start + names + times
