"""Session 37's review (``review37a``): the stored layouts ``redis37`` (a Redis host's
lodged fields named by one byte, a derived head's count in one) and ``records37`` (the
takeover record's v6) attacked from the spammer's seat and the operator's.

1. A differential of the stores: a hostile log (accounts and sessions named with first
   bytes across UTF-8's range and like the new field names and markers, 512-character
   names, contact lists of 2,000, fan-outs of 1,200, late events up to ``MAX_LATENESS``,
   gaps past the ties' TTL,
   times either side of 2**30 and 2**31 s, near zero and in 2096) judged by an engine on
   memory, SQLite and Redis: every verdict and every account's takeover record alike.
2. The upgrade: takeover records session 36's release (main at f374292) wrote on such a
   log, its own bytes, read as that release read them (its domain tags as ``linked``) and
   put back in v6 stably; a Redis store whose renaming was cut off after the mark that
   refuses session 36's nodes finishes it at the next open.
3. Bounds: a derived head's one-byte count across 255/256 both ways."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import config
from spimguard import accounts, decode_event, open_engine
from spimguard.detectors.takeover import histogram
from spimguard.detectors.takeover import record as takeover_record
from spimguard.state import hashed, ops
from spimguard.state.memory import MemoryState
from spimguard.state.ops import MAX_LATENESS, Contains, Distinct, Get, Members, Query, Touch

# -- 1. The stores' differential on a hostile log ------------------------------------------

# First bytes across UTF-8's range (1, 2, 3 and 4 bytes, the last code point), Latin-1's
# 0xF5-0xFF (their UTF-8 starts 0xC3: never a field's byte), names of the new fields'
# keyspaces (t, c, cv), ":" (a guest's separator) and a name of 500 characters.
_LEADS = ["\x01", "A", "\u0080", "\u00ff", "\u00fe", "\u07ff", "\u0800", "\uffff", "\ufffe",
          "\U00010000", "\U0010ffff", "\u00f5", "\u00f6", "t", "c", "cv", ":", "s1:",
          "\u00ff\u00fe", "x" * 500]
_ACCOUNTS = [f"{lead}@h{i}" if i % 3 else lead for i, lead in enumerate(_LEADS)]
_SESSIONS = ["", "s1", "s1:", ":", "\u00ff", "\u00fe", "t", "c", "cv", "\U0010ffff", "a" * 500,
             *[f"s{i}" for i in range(40)]]
_NETS = ["10.0.0.1", "10.0.0.2", "192.168.7.9", "2001:db8::1", "2001:db8:1::7", "8.8.8.8",
         "", "::1", "not-an-ip"]
_TEXTS = ["hi there", "lunch at 1?", "see http://tones.example.com/x now",
          "FR33 r1ngt0nes at tones dot com", "привет как дела", "مرحبا كيف حالك",
          "visit https://\u00ff.example/\u00fe", "ok", "here: http://a.b/c http://d.e/f"]
# Where a time's top bytes change (2**30 s, 2**31 s), an ordinary time, near zero, 2096.
_STARTS = [2.0 ** 30 - 600.0, 2.0 ** 31 - 600.0, 1_700_000_000.0, 0.5, 4_000_000_000.0]


def hostile_log(seed: int, n: int) -> list[dict[str, Any]]:
    """``n`` events of the module's docstring (no note to self: session 37's ``self37``
    changed those verdicts on purpose, so they would tell two releases apart)."""
    rng = random.Random(seed)
    now = newest = rng.choice(_STARTS)
    out: list[dict[str, Any]] = []
    for i in range(n):
        jump = rng.choice((0.0, 0.5, 3.0, 60.0, 900.0, 7_200.0, 90_000.0))
        if rng.random() < 0.03:  # past the ties' TTL: whole records rewritten, swept
            jump = accounts.TALKED_TTL + rng.choice((0.0, 86_400.0))
        elif rng.random() < 0.08:
            jump = -rng.choice((MAX_LATENESS, 1_800.0, 30.0))
        now = max(now + jump, newest - MAX_LATENESS, 0.0)
        newest = max(newest, now)
        who, roll, base = rng.choice(_ACCOUNTS), rng.random(), {"id": f"e{i}", "ts": now}
        if roll < 0.12:
            event = {**base, "type": "login", "account": who, "session": rng.choice(_SESSIONS),
                     "ip": rng.choice(_NETS), "success": rng.random() < 0.9,
                     "client": {"id": rng.choice(("app", "bot", "", "w"))}}
        elif roll < 0.17:
            size = rng.choice((0, 1, 50, 2_000))
            event = {**base, "type": "contacts", "account": who,
                     "contacts": [rng.choice(_ACCOUNTS) if j % 7 == 0 else f"@c{j}:{seed}"
                                  for j in range(size)] or [who]}
        elif roll < 0.20:
            event = {**base, "type": "account", "account": who, "clients": ["app"],
                     "networks": rng.sample(["10.0.0.0/24", "2001:db8::/32", "8.8.8.0/24"], 2)}
        elif roll < 0.22:
            event = {**base, "type": "challenge", "account": who, "passed": rng.random() < 0.5,
                     "session": rng.choice(_SESSIONS) or "s0"}
        else:
            many = rng.random() < 0.05
            recipients = ([f"@r{j}:{seed}" for j in range(rng.choice((300, 1_200)))] if many
                          else rng.sample([a for a in _ACCOUNTS if a != who],
                                          rng.choice((1, 1, 2, 4))))
            event = {**base, "type": "message", "sender": who, "recipients": recipients,
                     "text": rng.choice(_TEXTS), "session": rng.choice(_SESSIONS),
                     "client": {"id": rng.choice(("app", "bot", "")), "ip": rng.choice(_NETS)}}
        out.append(event)
    return out


def _judged(backend: str, folder: Path, storage: dict[str, Any],
            events: list[dict[str, Any]]) -> tuple[list[bytes], list[Any]]:
    """Each event's answer, then every account's takeover record (decoded) and account
    record, read back through the store after the last."""
    cfg = config(storage={"backend": backend, **storage},
                 records={"evidence_key": "test-evidence-key"})
    engine = open_engine(cfg, folder)
    try:
        answers = [msgspec.json.encode(engine.process(decode_event(msgspec.json.encode(e),
                                                                   cfg.limits)))
                   for e in events]
        people = sorted({p for e in events for p in (e.get("sender"), e.get("account")) if p})
        held = engine.read_state([q for p in people for q in (
            Get(takeover_record.key(p)), Get(accounts.key(p)))], events[-1]["ts"])
        return answers, [takeover_record.decode(h) if i % 2 == 0 and h is not None else h
                         for i, h in enumerate(held)]
    finally:
        engine.close()


@pytest.mark.parametrize("seed", [1, 10, 11, 15])
def test_every_store_judges_a_hostile_log_as_memory_does(
        seed: int, tmp_path: Path, compact: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential of the module's docstring (seeds 1, 10, 11 and 15 start at
    1970, 2096, 1970 and 2**31 s less 600): SQLite's and Redis's answers and records are
    memory's, Redis at the recommended hash-max-listpack-value (the account's record,
    takeover record and contacts lodged under their one-byte fields). Held on main at
    ce19f45 (seeds 1, 2, 7 of 300 events too, by hand).

    Every store is given one digest key (``hashed.new_key``): a contact list's 3-byte
    digests match a stranger by chance (n/2**24 a question, ``hashed.py``), at a store's
    own key; a fan-out of 500 to a sender of 2,000 contacts meets one ~6 % of the time, a
    verdict apart between stores (and runs) of different keys, as designed."""
    monkeypatch.setattr(hashed, "new_key", lambda: bytes(range(hashed.KEY_BYTES)))
    events = hostile_log(seed, 120)
    found = {}
    for backend, storage in (("memory", {}), ("sqlite", {}),
                             ("redis", {"redis_url": compact, "redis_namespace": "r37a:"})):
        folder = tmp_path / backend
        folder.mkdir()
        found[backend] = _judged(backend, folder, storage, events)
    assert sum(b'"action":"block"' in a for a in found["memory"][0]) > 0
    assert any(r is not None for r in found["memory"][1])
    for backend in ("sqlite", "redis"):
        assert found[backend][0] == found["memory"][0], backend
        assert found[backend][1] == found["memory"][1], backend


# -- 2. The upgrade: session 36's own bytes -------------------------------------------------

# Takeover records session 36's release (main at f374292, its ``record._encode``) put on
# ``hostile_log``'s seeds 10, 11, 13, 14 and 15 (120 events each, a memory engine,
# PYTHONHASHSEED=0): each seed's longest and shortest and every one with links (``k``)
# or sited counts (``w``), with what that release's ``decode`` read from them (JSON).
_SESSION_36 = Path(__file__).parent / "data" / "review37a_v5_records.json"


def _as_session_37_reads(old: dict[str, Any]) -> dict[str, Any]:
    """Session 36's reading with its domain tags as this release's flag (``linked``: only
    whether there were any), and its hours, the day's 24 counts, as the histogram of them
    (session 48: the decoded record keeps them as stored, ``histogram``)."""
    profile = old.get("p")
    if profile is not None and "domains" in profile and profile.pop("domains"):
        profile["linked"] = True
    if profile is not None and "hours" in profile:
        profile["hours"] = histogram.of(profile["hours"])
    return old


def _json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


def test_session_36s_own_records_read_as_it_read_them_and_go_back_in_v6_stably() -> None:
    """Each record of ``_SESSION_36`` reads as session 36's release read it, its tags as
    ``linked``; put back (v6, at its newest time) it reads back the same profile and
    links, and a second put is the first's bytes (nothing drifts a put at a time)."""
    held = json.loads(_SESSION_36.read_text())
    assert len(held) == 24 and sum(bool(v["decoded"].get("p", {}).get("domains"))
                                   for v in held.values()) > 10
    for name, entry in held.items():
        stored = bytes.fromhex(entry["v5"])
        assert stored[:1] != b"\xc1"  # v5: the version (or [5, *links]) first
        read = takeover_record.decode(stored)
        assert _json(read) == _as_session_37_reads(entry["decoded"]), name
        now = read.get("pt", 0.0)
        ttls = (float(30 * 86_400), 12 * 3_600.0, 7 * 86_400.0)
        once = takeover_record._encode(read, now, *ttls)[0]
        again = takeover_record._encode(takeover_record.decode(once), now, *ttls)[0]
        assert once[:1] == b"\xc1" and once == again, name
        back = takeover_record.decode(once)
        assert back.get("p") == read.get("p") and back.get("k", {}) == {
            p: t for p, t in read.get("k", {}).items() if t > now - ttls[0]}, name


def test_a_renaming_cut_off_after_the_mark_finishes_at_the_next_open(compact: str) -> None:
    """A node of session 37's release that set the mark refusing session 36's nodes
    (``_check_ttls``) and stopped before renaming the hosts' fields (``_convert_names``)
    leaves a store no node of either release misreads: the next node of this release to
    open it renames them (the host keyspace not marked done), and answers as memory."""
    import redis

    from spimguard.state.redis import RedisState
    from test_redis37 import NS, _account_writes, _as_session_36, _reads

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    people = ["@b:s", "\u00ff", "\U0010ffff", ""]
    for store in (state, model):
        store.write(_account_writes(people), 1_700_000_000.25)
    state.close()
    _as_session_36(raw, NS)
    for key in raw.scan_iter(match=NS + "sided-ttls:*"):  # the mark: set before renaming
        raw.set(key, raw.get(key) + b"\x03")
    ties = NS + accounts.tie_record("@a:s")
    assert {b"\xff\xfft", b"\xff\xfes1"} <= set(raw.hkeys(ties))
    state = RedisState(compact, NS)
    assert not {f for f in raw.hkeys(ties) if f[:2] in (b"\xff\xff", b"\xff\xfe")}
    assert state.read(_reads(people), 1_700_000_001.0) == model.read(_reads(people),
                                                                       1_700_000_001.0)
    state.close()


# -- 3. Bounds: a derived head's one-byte count ---------------------------------------------

def test_a_derived_heads_count_crosses_255_and_256_both_ways_as_memory_counts(
        compact: str) -> None:
    """A side of the declared TTL counted at 255 (5 bytes), 256 (8: the byte would wrap to
    0), and back under 256 as its members expire (5 again): every count, membership and
    listing memory's, at each step."""
    import redis

    from spimguard.state.redis import RedisState, _side_head

    ties, side, ttl = accounts.tie_record("@a:s"), accounts.TALKED, accounts.TALKED_TTL
    place = ops.slot_of(ties, side)[0]
    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, "r37a-heads:"), (
        MemoryState())
    t0 = 1_700_000_000.0
    early = [f"@e{i}:s" for i in range(200)]
    late = [f"@l{i}:s" for i in range(56)]

    def step(members: list[str], now: float, width: int) -> None:
        writes = [Touch(ties, tuple(members), ttl, 1_000, side)]
        for store in (state, model):
            store.write(writes, now)
        heads = raw.hget("r37a-heads:" + ties, b"\xff")
        assert len(_side_head(heads, place) or b"") == width
        reads: list[Query] = [Members(ties, side), Distinct(ties, ttl, side),
                              Contains(ties, ("@e0:s", "@l55:s", "@x:s"), side)]
        assert state.read(reads, now + 1) == model.read(reads, now + 1)

    step(early, t0, 5)
    step(late[:55], t0 + ttl / 2, 5)  # 255
    step(late[55:], t0 + ttl / 2 + 1, 8)  # 256: past a byte
    step(["@x:s"], t0 + ttl + 10, 5)  # the early 200 gone: 57
    state.close()
