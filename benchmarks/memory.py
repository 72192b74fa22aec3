"""Memory per tracked account at 100,000 and 1,000,000 accounts.

    python benchmarks/memory.py [--accounts 100000 1000000]

A tracked account is what three days of ordinary life leave in state: its
contact list, the people it writes with, the takeover detector's record (profile,
sessions, live networks, delivered counts and the owner's correspondents in one
value, ``tk:<account>``: ``detectors/takeover/record.py``), counters (``spimguard
simulate --scenario quiet``, 1,000 users, run through the engine). Those per-account keys are then
copied under new account names until the store tracks N accounts, and the
store's own memory is read:

- memory backend: the resident memory growth per account of a process that holds
  the template's keys alone (spawned, so it inherits none of this one's freed memory:
  the template's run and its sweep leave tens of MB that the allocators keep and that
  the first copies fill without growing the process; measured here, the figure read
  1,072 at 25,000 accounts and 2,261 at 100,000, and hid a 400-byte saving);
- Redis (the shared backend): ``used_memory`` growth per account, on a
  redis-server this script starts on a free port and stops (keys copied with
  DUMP/RESTORE, so each copy is a real Redis object, into the store emptied of the
  template's run: ``_fill_redis``), its hash-max-listpack-value the
  one spimguard recommends (``--listpack-value``; Redis's default, 64, keeps an
  account's takeover record and contact list in keys of their own).

Only what is still alive in event time when the log ends is an account's cost:
the template's store is swept at its last event's time, and the Redis keys
copied are those the swept memory store still holds (the same log leaves the
same keys in every backend). Redis's own wall-clock EXPIRE, only a safety net an
hour past each event-time TTL, would otherwise keep the three days' ten-minute
burst counters, which the template lives through in a few minutes: ~9 KB an
account that production frees within the hour.

The rows by kind say where the bytes go. Redis: MEMORY USAGE of each key (an account's
record is a field of its ``ties`` hash there, ``state/redis.py``; without its slot in
the keyspace's and the expiries' hash tables: ~94 bytes a key more in ``used_memory`` at
100,000 accounts). Memory backend: everything a key holds, as the allocator takes it
(``store_sizes``): its name's string (~80 bytes: each key is a string of its own, but
for an account's record, held by the account's id: the string its name is among the
member names, counted there), its slot in its table, its entry's objects, each object
counted once in the store (a TTL setting is shared; each expiry, computed by its write,
is not, and the copies make their own; a value holds its expiry in its bytes); the
member names, account ids held once (an account's by its record), are a row of their
own. An account's
record, takeover record and contact list are held inside its ties' object there
(``state/memory.py``, ``_Account``): each is a row of its own ("lodged ... in ties": its
bytes and its 4 bytes of length), and the one bytes object holding them counts its
header and rounding in the ties' row; its sessions' records (``tk:session:``, lodged as
its guests after those items in the same bytes object) are a row of their own, their
bytes. The rows' sum comes within ~5 % of the resident
growth (2,887 and 3,015 at 100,000 accounts): the rest is the allocator's pool headers,
the store's table of names no account holds and where each big table is between two
doublings (``sys.intern``'s table, a slot an account id, until session 38). At a few
thousand accounts the resident growth reads low: the child's unpickling of the template
leaves ~1.7 MB of glibc's heap free, which the first ~1,500 copies fill without growing
the process, so a second line adds the free heap filled (session 36, at 2,000: 479
resident, 1,089 with it, the rows' 1,080; from 4,000 to 6,000 accounts the growth was
1,256 an account, past the rows by the tables' doubling and the allocators' overhead).

State shared by all accounts (bulk clusters, domain reputation) is not copied:
it grows with traffic, not with accounts. Target: at most 1 KiB per account.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import multiprocessing
import pickle
import random
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from typing import Any

import msgspec
import redis

from spimguard import decode_event, load_config, open_engine
from spimguard.sim import network, scenarios, texts
from spimguard.state import sided
from spimguard.state.memory import _LENGTHS, _SLOTS, MemoryState, _Account, _Packed, _slot
from spimguard.state.ops import guest_of, lodging
from spimguard.state.redis import (
    _GUEST,
    _GUESTS_BEFORE,
    RECOMMENDED_LISTPACK_VALUE,
    lodged_field,
)
from table import Rows, redis_server, show

TEMPLATE_USERS = 1000
_USER = re.compile(r"user\d+")


def template_events() -> list[bytes]:
    rng = random.Random(5)
    plan = scenarios.plan(network.build(TEMPLATE_USERS, rng), texts.load(), "quiet", 3, rng)
    return [msgspec.json.encode({**p.body, "id": f"e{n}", "ts": p.ts})
            for n, p in enumerate(plan.events)]


def run_template(backend: str, **storage: str):  # type: ignore[no-untyped-def]
    # Shared state needs the key every node pseudonymises evidence with (any fixed one).
    records = {"evidence_key": "memory-benchmark"} if backend == "redis" else {}
    cfg = load_config(environ={}, storage={"backend": backend, **storage}, records=records,
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg)
    events = [decode_event(line, cfg.limits) for line in template_events()]
    for start in range(0, len(events), 500):
        engine.process_batch(events[start:start + 500])
    return engine


def _kind(key: str) -> str:
    """A key's kind: its name without the account and what follows it."""
    return _USER.split(key, 1)[0].rstrip(":") or key


def live_keys(engine) -> list[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    """The per-account keys of a memory store swept at the log's last event, with their
    entries (counter, member set or value)."""
    state = engine.state
    state.sweep(engine.clock)
    return [(prefix + key, entry) for prefix, table in _tables(state)
            for key, entry in table.items() if _USER.search(prefix + key)]


_TABLES = ("_counters", "_members", "_values", "_hashed")


def _tables(state) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """The store's tables, each with the prefix its keys are held without: a sided
    keyspace's records are held by id (``memory._Home``), the others by key."""
    return [*(("", getattr(state, name)) for name in _TABLES),
            *((home.prefix, home.records) for home in state._homes.values())]


def _allocated(size: int) -> int:
    """What the allocator takes for an object of ``size`` bytes: CPython's own allocator
    serves requests up to 512 bytes from 16-byte size classes; larger ones go to glibc's
    malloc, which adds an 8-byte header and rounds to 16 (32 at least)."""
    return (size + 15) // 16 * 16 if size <= 512 else max(32, (size + 8 + 15) // 16 * 16)


def _held_objects(entry: Any, seen: set[int]) -> Iterator[Any]:
    """An entry's objects (itself, its containers' items, its slots) not in ``seen``, each
    added to it: an object several keys hold (a TTL setting, an interned member name, a
    value stored under several keys) is counted once in the whole store. An int the
    interpreter shares (−5 to 256: a ``sided.Record.end`` below 257) is none of the
    store's: it is held whether or not any account is."""
    if id(entry) in seen or entry is None or (entry.__class__ is int and -5 <= entry <= 256):
        return
    seen.add(id(entry))
    yield entry
    if isinstance(entry, tuple):
        items: Iterable[Any] = entry
    elif isinstance(entry, dict):
        items = chain.from_iterable(entry.items())
    else:
        items = _slots(entry)
    for item in items:
        yield from _held_objects(item, seen)


def _slots(entry: Any) -> Iterator[Any]:
    """What an object's slots hold, read by their descriptors (a property, as
    ``sided.Record.times``, makes a copy, which the object does not hold), set ones."""
    for kind in type(entry).__mro__:
        for name in getattr(kind, "__slots__", ()):
            try:
                yield kind.__dict__[name].__get__(entry, kind)
            except AttributeError:  # (a slot not set)
                continue


def store_sizes(state, live: list[tuple[str, Any]]  # type: ignore[no-untyped-def]
                ) -> tuple[list[tuple[str, int]], int]:
    """Bytes a store holds for each per-account key, as the allocator takes them: the key's
    string, its share of its table's slots, its entry's objects; the member names (account
    ids, each held once however many sets name it) are counted apart.
    Their sum is what the resident memory grows by an account (``_grow``), within the
    allocator's pool headers and the store's table of names no account holds.

    A key's slot is its share of a table grown one key at a time to the table's keys (a
    swept table keeps its room): 24 bytes of entry and its index, times the room a dict
    keeps, which steps with each doubling (~30 to ~60 bytes a key)."""
    share = {id(table): sys.getsizeof({key: None for key in table}) / len(table)
             for _, table in _tables(state) if table}
    # Each key's table and the string the table holds it by (an account's id, for its
    # record: the string its name is among others' members, counted once with them).
    home = {prefix + key: (id(table), key) for prefix, table in _tables(state) for key in table}
    seen: set[int] = set()
    members = {id(name) for _, entry in live if isinstance(entry, sided.Record)
               for name in entry.names}
    sizes: list[tuple[str, int]] = []
    names = 0
    fields = {slot: field for (field, _), slot in _SLOTS.items()}
    for key, entry in live:
        table, held_as = home[key]
        held = round(share[table])
        if id(held_as) in members:
            names += sum(_allocated(sys.getsizeof(part)) for part in _held_objects(held_as, seen))
        else:  # (its record's ``id`` is this string: counted here, once)
            held += _allocated(sys.getsizeof(held_as))
            seen.add(id(held_as))
        if isinstance(entry, _Account) and id(entry.held) not in seen:
            # Each lodged item a row of its own: its bytes and length in the account's
            # object's ``held``, which counts its header, rounding and times with the ties
            # (and its times' length, ``end``, an int of its own past 256); so are its
            # sessions' records lodged after them (``guests``), one row.
            seen.add(id(entry.held))
            held += _allocated(sys.getsizeof(entry.held))
            if guests := len(entry.guests):
                sizes.append((f"lodged tk:session records in {key}", guests))
                held -= guests
            items = entry.items()
            width = _LENGTHS[entry.held[entry.end]].size // len(items) if items else 0
            for slot, item in enumerate(items):
                if item is not None:
                    sizes.append((f"lodged {fields[slot]!r} in {key}", len(item) + width))
                    held -= len(item) + width
        for part in _held_objects(entry, seen):
            size = _allocated(sys.getsizeof(part))
            if isinstance(part, str):
                names += size
            else:
                held += size
        sizes.append((key, held))
    return sizes, names


def loose_share(state: MemoryState) -> float:
    """Bytes of the store's table of the names no account holds (``memory._Names.loose``:
    a correspondent never tracked, a swept account's id), as a table of its names grown
    one at a time holds them (``store_sizes``' share of a table). Not in the rows' sum,
    comparable with every pass's. Until session 38 the line beside the sum was
    ``sys.intern``'s table, a slot an account id (26 bytes an account at the template, 38
    at 100,000): the store holds an account's id by its record now."""
    loose = state._names.loose
    return sys.getsizeof({name: None for name in loose}) if loose else 0


def by_kind(sizes: list[tuple[str, int]], store: str) -> Rows:
    """Bytes per account by key kind, largest first."""
    total: dict[str, list[int]] = {}
    for key, size in sizes:
        count = total.setdefault(_kind(key), [0, 0])
        count[0] += 1
        count[1] += size
    return [(f"{store}: {kind} ({n / TEMPLATE_USERS:.2f} keys an account), bytes an account",
             f"{size / TEMPLATE_USERS:,.0f}")
            for kind, (n, size) in sorted(total.items(), key=lambda kv: -kv[1][1])]


def renamed(text: str, copy_number: int) -> str:
    return _USER.sub(lambda m: f"{m.group(0)}c{copy_number}", text)


def resident_bytes() -> int:
    """This process's resident anonymous memory (Linux): its heap, allocator overhead
    included, without the pages of code and libraries mapped from files (VmRSS counts
    those, which come and go with the page cache, not with accounts)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("RssAnon:"))
    return int(line.split()[1]) * 1024


def _own(name: str) -> str:
    """A name as a copy holds it when no store is given (``_copied``): itself."""
    return name


def _copied(entry: Any, number: int, held: Callable[[str], str] = _own) -> Any:
    """A fresh copy of one memory-backend entry, its member names renamed and mapped by
    ``held`` (the store's strings, ``memory._Names.held``, as a write holds them) and its
    expiry its own float, as each write computes one (a TTL is a setting: shared)."""
    if isinstance(entry, bytes):  # a value or a hashed set (a contact list): no names
        return bytes(memoryview(entry))
    if isinstance(entry, _Account):  # an account's ties and what is lodged in them
        return _filled(_Account(renamed(entry.id, number)), entry, number, held)
    if not isinstance(entry, tuple):  # a small member set holding its expiry, TTL and cap
        return type(entry)(_renamed_set(entry, number, held), entry.expiry + 0.0, entry.ttl,
                           entry.cap)
    head, expiry, *rest = entry
    if isinstance(head, dict):
        if head and isinstance(next(iter(head)), str):
            head = {held(renamed(m, number)): t for m, t in head.items()}
        else:
            head = dict(head)
    elif isinstance(head, bytes | memoryview):
        head = bytes(memoryview(head))
    else:
        head = _renamed_set(head, number, held)
    return (head, expiry + 0.0, *rest)


def _filled(copy: _Account, entry: _Account, number: int, held: Callable[[str], str]
            ) -> _Account:
    """``copy`` (a new account's object) holding what ``entry`` holds, renamed
    (``_copied``): its ties, lodged items and sessions' records."""
    copy.hold(tuple(held(renamed(m, number)) for m in entry.names),
              bytes(memoryview(entry.times)))
    copy.hold_items(entry.items())
    for name, guest in entry.guest_items():
        copy.hold_guest(renamed(name.decode(), number).encode(),
                        sided.Record(tuple(renamed(m, number) for m in guest.names),
                                     guest.times))
    return copy


def _renamed_set(members: Any, number: int, held: Callable[[str], str]) -> Any:
    """A packed member set's copy, its names renamed and the store's (``_copied``)."""
    times = members.times if isinstance(members.times, float) else bytes(
        memoryview(members.times))
    return _Packed(tuple(held(renamed(m, number)) for m in members.names), times)


def memory_backend(engine, live: list[tuple[str, Any]],  # type: ignore[no-untyped-def]
                   targets: list[int]) -> Rows:
    sizes, names = store_sizes(engine.state, live)
    rows: Rows = [("memory backend: per-account keys in the template (1,000 accounts)",
                   f"{len(live):,}")]
    rows += by_kind(sizes, "memory backend")
    rows.append(("memory backend: member names (account ids, each held once), bytes an account",
                 f"{names / TEMPLATE_USERS:,.0f}"))
    rows.append(("memory backend: sum of the rows above, bytes an account",
                 f"{(sum(size for _, size in sizes) + names) / TEMPLATE_USERS:,.0f}"))
    rows.append(("  beside them, the store's table of names no account holds (a table's share), "
                 "bytes an account", f"{loose_share(engine.state) / TEMPLATE_USERS:,.0f}"))
    # Spawned, not forked: the child starts with none of this process's freed memory to reuse.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child:
        grown = child.submit(_grow, pickle.dumps(_homed(engine.state, live)), targets,
                             sorted(_SLOTS, key=_SLOTS.__getitem__)).result()
    for target, (per_account, filled) in zip(targets, grown, strict=True):
        rows += [(f"memory backend, {target:,} accounts: resident memory growth an account "
                  "(target ≤ 1024)", f"{per_account:,.0f}"),
                 ("  the same with the free heap the copies filled (glibc's, left by the "
                  "template's unpickling)", f"{per_account + filled:,.0f}")]
    return rows


def _homed(state, live: list[tuple[str, Any]]  # type: ignore[no-untyped-def]
           ) -> list[tuple[str, str, Any]]:
    """Each key with its entry and where it is: the name of its table, or the prefix of
    its sided keyspace (its key held less it)."""
    tables = [(name, getattr(state, name)) for name in _TABLES]
    prefixes = [home.prefix for home in state._homes.values()]
    return [(next((name for name, table in tables if key in table), None)
             or max((p for p in prefixes if key.startswith(p)), key=len), key, entry)
            for key, entry in live]


def _put(state: MemoryState, place: str, key: str, entry: Any, number: int | None) -> None:
    """Hold ``entry`` at ``key`` of ``_homed``'s ``place``: the template's own entry
    (``number`` None), or its copy renamed by ``number``, its names the store's and a
    record made by its home (``memory._Home.add``: an account's id the store's string), as
    a write makes them."""
    held = state._names.held
    if place in _TABLES:
        getattr(state, place)[key if number is None else renamed(key, number)] = (
            entry if number is None else _copied(entry, number, held))
    elif number is None:
        state._home_of(place).records[entry.id] = entry
    else:
        home = state._home_of(place)
        _filled(home.add(renamed(key, number)[home.cut:]), entry, number, held)


def _free_heap() -> int:
    """Bytes glibc's malloc holds free in its heap (``mallinfo2``'s ``fordblks``; 0 where
    there is no glibc 2.33): memory already resident that allocations fill first."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo
        return int(libc.mallinfo2().fordblks)
    except (OSError, AttributeError):
        return 0


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _grow(homed: bytes, targets: list[int], slots: list[tuple[str, bool]]
          ) -> list[tuple[float, float]]:
    """Resident memory growth an account, in a process holding the template's keys alone,
    as they are copied until the store tracks each target's accounts. The parent's
    memory would mislead: the template's run and its sweep leave tens of MB freed but
    kept by the allocators, which the first copies fill without growing the process
    (its figure at 25,000 accounts was under half the one at 100,000). The child's own
    unpickling of the template leaves some too (~1.7 MB of glibc's heap free, session 36:
    at 2,000 accounts the growth read 479 where the rows' sum was 1,080, and 1,089 with
    the free heap the copies filled), so each target's growth comes with the free heap
    filled an account (``_free_heap``, the second of each pair). ``slots``: the
    lodged keyspaces' places as the parent made them, made here in the same order, so an
    account's lodged bytes read here as there."""
    for field, is_set in slots:
        _slot(field, is_set)
    state = MemoryState()
    entries: list[tuple[str, str, Any]] = pickle.loads(homed)
    for place, key, entry in entries:
        _put(state, place, key, entry, None)
    gc.collect()
    base, free, made, grown = resident_bytes(), _free_heap(), TEMPLATE_USERS, []
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            for place, key, entry in entries:
                _put(state, place, key, entry, number)
            made += TEMPLATE_USERS
        grown.append(((resident_bytes() - base) / (target - TEMPLATE_USERS),
                      (free - _free_heap()) / (target - TEMPLATE_USERS)))
    return grown


def redis_backend(targets: list[int], live: set[str], listpack_value: int) -> Rows:
    with redis_server(listpack_value) as port:
        if port is None:
            return [("Redis", "redis-server not installed: skipped")]
        return _fill_redis(redis.Redis(port=port), port, targets, live)


def _lodged_rows(client: redis.Redis, namespace: str, live: set[str]) -> Rows:
    """What of the hosts' hashes the lodged values and sets are (their fields' value
    bytes; a listpack adds a few bytes a field), by kind, and how many are lodged."""
    found: dict[str, list[int]] = {}
    for key in sorted(live):
        place = lodging(key)
        if place is None:
            continue
        size = client.hstrlen(namespace + place[0], lodged_field(place[1]))
        count = found.setdefault(_kind(key), [0, 0])
        count[0] += size > 0
        count[1] += size
    return [(f"Redis: of the ties, {kind} lodged in them ({n / TEMPLATE_USERS:.2f} an "
             "account), bytes an account", f"{size / TEMPLATE_USERS:,.0f}")
            for kind, (n, size) in sorted(found.items(), key=lambda kv: -kv[1][1])]


def _guest_rows(client: redis.Redis, keys: list[str]) -> Rows:
    """What of the ties hashes the sessions' records lodged in them are (their fields'
    names and values: ``redis._GUEST``, or a field a member behind ``_GUESTS_BEFORE`` at a
    smaller listpack value; a listpack adds a few bytes a field)."""
    sessions: set[tuple[str, bytes]] = set()
    size = 0
    for key in keys:
        for name, value in client.hgetall(key).items() if client.type(key) == b"hash" else ():
            if name.startswith((_GUEST, _GUESTS_BEFORE)):
                sessions.add((key, name.split(b":", 1)[0]))
                size += len(name) + len(value)
    per_account = len(sessions) / TEMPLATE_USERS
    return [(f"Redis: of the ties, tk:session records lodged in them ({per_account:.2f} an "
             "account), bytes an account", f"{size / TEMPLATE_USERS:,.0f}")]


def _fill_redis(client: redis.Redis, port: int, targets: list[int], live: set[str]) -> Rows:
    namespace = "sg:"
    with tempfile.TemporaryDirectory() as records:  # the verdict log stays in SQLite
        engine = run_template("redis", redis_url=f"redis://127.0.0.1:{port}/0",
                              redis_namespace=namespace, data_dir=records)
        engine.close()
    # A lodged value or set (an account's records, its contacts) may live in its host's
    # hash: the host is copied, and the key of its own if it has one; so is a session's
    # record that Redis keeps as a key of its own where memory lodges it (``gtouch``).
    held = {place[0] for key in live if (place := lodging(key))} | live
    keys = [k.decode() for k in client.scan_iter(match=f"{namespace}*", count=10_000)
            if (key := k.decode().removeprefix(namespace)) in held
            or ((place := guest_of(key)) is not None and place[0] in held)]
    dumps = {k: (client.dump(k), client.pttl(k)) for k in keys}
    rows: Rows = [("Redis: per-account keys in the template (1,000 accounts)", f"{len(keys):,}")]
    rows += by_kind([(k.removeprefix(namespace), client.memory_usage(k) or 0) for k in keys],
                    "Redis")
    rows += _lodged_rows(client, namespace, live)
    rows += _guest_rows(client, keys)
    # Only the copies count: the template's run leaves keys no account has (claims, shared
    # state, keys past their event-time TTL that Redis's EXPIRE keeps), whose wall-clock
    # expiries fell while the copies went in and took the growth down with them (one run:
    # 1,274 bytes an account, 1,231 five seconds later); so the store is emptied first, and
    # every account counted is a copy, the template's own too (copy 0).
    client.flushall()
    base = client.info("memory")["used_memory"]
    made = 0
    for target in targets:
        while made < target:
            number = made // TEMPLATE_USERS
            pipe = client.pipeline(transaction=False)
            for key, (payload, ttl) in dumps.items():
                name = renamed(key, number)
                pipe.restore(name, max(ttl, 0), payload, replace=True)
            pipe.execute()
            made += TEMPLATE_USERS
        grown = client.info("memory")["used_memory"] - base
        rows.append((f"Redis, {target:,} accounts: bytes per account (target ≤ 1024)",
                     f"{grown / target:,.0f}"))
    return rows


def main(targets: list[int] | None = None, redis_targets: list[int] | None = None,
         listpack_value: int = RECOMMENDED_LISTPACK_VALUE) -> Rows:
    engine = run_template("memory")
    live = live_keys(engine)
    # Redis first: the memory backend's millions of entries stay in this process.
    in_redis = redis_backend(redis_targets or [100_000], {key for key, _ in live},
                             listpack_value)
    return memory_backend(engine, live, targets or [100_000, 1_000_000]) + in_redis


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--redis-accounts", type=int, nargs="+", default=[100_000],
                        help="each account copied is a few KB in Redis")
    parser.add_argument("--listpack-value", type=int, default=RECOMMENDED_LISTPACK_VALUE,
                        help="the Redis server's hash-max-listpack-value (Redis's default: 64)")
    args = parser.parse_args()
    show(main(args.accounts, args.redis_accounts, args.listpack_value))
