"""Red team, session 29 (``review``): the session's merges attacked.

``quality`` added NEW_ACCOUNT_DIRECT (``detectors/velocity.py``): a days-old account writing
one to one in the clear to ``new_account_direct_strangers`` (5) strangers in the hour is
held, link or not. Its innocents are newcomers writing to friends, answering people, and
greeting rooms; its spammer reads the rule and stays under it. The mend here (the rule counts
the strangers written to one to one, not the members a room post reached) fails on main
(94bfefc); what stays open is a strict xfail with its numbers (``docs/red-team-log.md``,
session 29, ``review``).
"""

from __future__ import annotations

import math
import random
import struct
import sys
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.detectors.takeover import record as takeover_record
from spimguard.detectors.takeover.record import Record
from spimguard.engine import Engine

HOUR = 3600
DAY = 86_400.0
_TTLS = (30 * DAY, 12 * 3600.0, 7 * DAY)  # session_ttl, live_window, incident_ttl

# What a newcomer writes to people it knows (English chat the bundled model lets through).
HELLOS = ("hey it's me, finally on here", "hi! saved your number :)", "hello hello",
          "yo, guess who joined", "hi, this is my account now", "hey, you around later?",
          "morning! it's Sam", "hi there, it's me")

# Pitches the content model never trained on (the talyguryn set's kind, no link): the
# attacks are judged with content, bulk and reputation off, as the rule alone judges them
# (a spammer who reads the code varies its words past bulk and writes what the model
# never saw; ``test_velocity.py`` judges the rule so too).
OFFERS = ("Нужны люди на пару часов, оплата 3000 сразу, пиши в личку",
          "Есть тема на удалёнке, доход от 2000 в день, подробности в лс",
          "Ищу партнёров для сотрудничества, всё расскажу, напиши мне")
RULE_ALONE = {"content": {"enabled": False}, "bulk": {"enabled": False},
              "reputation": {"enabled": False}}


def held(verdict: Any) -> bool:
    return verdict.action in ("hold", "block")


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def room_of(engine: Engine, size: int) -> list[str]:
    """A community room of ``size`` members a month old (``room`` event), "new" joining it
    now: its members, "new" last."""
    members = [f"u{i}" for i in range(size)]
    engine.process(event(engine.config, type="room", id="club", ts=T0 - 30 * 86_400,
                         account="u0", conversation="club", members=members))
    engine.process(event(engine.config, type="room", id="join", ts=T0, account="new",
                         conversation="club", members=["new"]))
    return [*members, "new"]


def post(engine: Engine, id: str, sender: str, members: list[str], text: str,
         ts: float) -> Any:
    return engine.process(message(engine.config, id, sender,
                                  [m for m in members if m != sender], text, ts,
                                  conversation="club"))


def answers_to_posters(size: int) -> list[Any]:
    """Eight members of a room of ``size`` ask it something; the newcomer who just joined
    answers each one to one, two minutes apart: its verdicts."""
    e = open_engine(config())
    members = room_of(e, size)
    for i in range(8):
        post(e, f"p{i}", f"u{i}", members, "anyone know a good bike shop?", T0 + 10 + i)
    return [e.process(message(e.config, f"m{i}", "new", [f"u{i}"], "try the one on main st",
                              T0 + 60 + 120 * i)) for i in range(8)]


# -- (a) innocents: the mend -----------------------------------------------------------

@pytest.mark.parametrize("size", [30, 200])
def test_a_newcomer_greeting_a_room_then_thanking_a_member_one_to_one_is_not_held(
        size: int) -> None:
    """A newcomer greets the room, a member welcomes it there, and it thanks the member one
    to one: one chat opened. On main the greeting's members (by name, 64 of a room past 50)
    stood among the hour's strangers and made the thank-you the "fifth" one-to-one
    stranger: blocked (NEW_ACCOUNT_DIRECT 8 + velocity 6). The rule's own principle is
    that a room greeting is one post and a pitch goes one by one: it counts the strangers
    written to one to one (``vel:direct:``), the greeting's members never."""
    e = open_engine(config())
    members = room_of(e, size)
    post(e, "hello", "new", members, "hi all, new here 👋", T0 + 5)
    post(e, "welcome", "u3", members, "welcome!", T0 + 30)
    thanks = e.process(message(e.config, "thanks", "new", ["u3"], "thanks for the welcome!",
                               T0 + 60))
    assert not held(thanks) and "NEW_ACCOUNT_DIRECT" not in codes(thanks), thanks


def test_a_room_greeting_does_not_buy_one_to_one_strangers() -> None:
    """The mend's other side: a days-old account that posts into a room of strangers and
    then writes one to one to strangers is held from the fifth of those, as without the
    post: the post buys it nothing (its members count for velocity's evidence). On main
    every one of them was held, from the first (the post's 64 members counted)."""
    e = open_engine(config(detectors=RULE_ALONE))
    members = [f"u{i}" for i in range(200)]
    e.process(message(e.config, "hello", "bot", members, "hi all", T0, conversation="club"))
    out = [e.process(message(e.config, f"m{i}", "bot", [f"t{i}"], OFFERS[i % 3],
                             T0 + 60 + 20 * i)) for i in range(8)]
    assert [held(v) for v in out] == [False] * 4 + [True] * 4
    assert "NEW_ACCOUNT_DIRECT" in codes(out[4])


def _after_a_room_post(engine: Engine) -> list[str]:
    members = [f"u{i}" for i in range(200)]
    engine.process(message(engine.config, "hello", "bot", members, "hi all", T0,
                           conversation="club"))
    one = [engine.process(message(engine.config, f"m{i}", "bot", [f"t{i}"], OFFERS[i % 3],
                                  T0 + 60 + 20 * i)) for i in range(8)]
    many = engine.process_batch([message(engine.config, f"b{i}", "bot2", [f"t{i}"],
                                         OFFERS[i % 3], T0 + 60 + 20 * i) for i in range(8)])
    return [v.action for v in (*one, *many)]  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_one_to_one_count_is_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """``vel:direct:`` is read deferred: on SQLite from the batch's held keys, on Redis
    with the rest; event by event and in one batch, as the memory backend judges."""
    storage: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        storage.update(redis_url=request.getfixturevalue("redis_url"),
                       redis_namespace=request.getfixturevalue("redis_namespace"))
    shared = open_engine(config(storage=storage, detectors=RULE_ALONE,
                                records={"evidence_key": "test-evidence-key"}), tmp_path)
    assert _after_a_room_post(shared) == _after_a_room_post(
        open_engine(config(detectors=RULE_ALONE)))


# -- (a) innocents that pass on main (guards) -----------------------------------------

def test_a_newcomer_writing_to_friends_who_wrote_first_is_not_held() -> None:
    """Guard: friends who wrote to the newcomer first are its correspondents, however many
    it answers in its first hour (a mutation that counts correspondents fails it)."""
    e = open_engine(config())
    friends = [f"f{i}" for i in range(8)]
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="new", contacts=friends))
    for i, friend in enumerate(friends):
        e.process(message(e.config, f"w{i}", friend, ["new"], "welcome!! 🎉", T0 + 10 + i))
    out = [e.process(message(e.config, f"m{i}", "new", [friend], HELLOS[i], T0 + 60 + 120 * i))
           for i, friend in enumerate(friends)]
    assert not any(held(v) for v in out) and not any(codes(v) for v in out)


def test_a_new_support_account_answering_customers_who_wrote_first_is_not_held() -> None:
    e = open_engine(config())
    for i in range(20):
        e.process(message(e.config, f"q{i}", f"cust{i}", ["shop"],
                          "hi, my order hasn't arrived yet", T0 + 30 * i))
    out = [e.process(message(e.config, f"a{i}", "shop", [f"cust{i}"],
                             "Sorry about that! it ships today, tracking to follow",
                             T0 + 700 + 30 * i)) for i in range(20)]
    assert not any(held(v) for v in out) and "NEW_ACCOUNT_DIRECT" not in {
        c for v in out for c in codes(v)}


def test_a_newcomer_answering_the_posters_of_a_small_room_is_not_held() -> None:
    """A room of at most 50 (``accounts.MAX_TALKED_FANOUT``): a member's post to it makes
    the poster a correspondent of each member, the newcomer too."""
    assert not any(held(v) for v in answers_to_posters(30))


# -- (a) innocents left held ------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "open: a newcomer on a phone-book platform writing to a sixth friend it lists, in its "
    "first day, before any of them lists it back (the platform learns their phone books at "
    "their next sync): held (score ~10-11), each later one too; the first five pass "
    "(UNVOUCHED_ALLOWANCE). At that moment only the sender's own list speaks for the tie, "
    "which a bot writes too: letting a list vouch reopens the rule to a bot at the cost of "
    "one contacts event. The shape is also the 'hi mum, new number' scam's"))
def test_a_phone_book_newcomer_writing_to_eight_friends_in_its_first_hour() -> None:
    e = open_engine(config())
    friends = [f"f{i}" for i in range(10)]
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="new", contacts=friends))
    out = [e.process(message(e.config, f"m{i}", "new", [friends[i]], HELLOS[i],
                             T0 + 60 + 120 * i)) for i in range(8)]
    assert not any(held(v) for v in out)


@pytest.mark.xfail(strict=True, reason=(
    "open: in a room of more than 50 (MAX_TALKED_FANOUT) a post makes no correspondents, so a "
    "newcomer answering its posters one to one holds from the fifth in the hour (score "
    "~11): the shape of a bot that joins public groups and writes to their members, told "
    "apart only by a reply's thread, which no event carries"))
def test_a_newcomer_answering_five_posters_of_a_big_room_one_to_one() -> None:
    assert not any(held(v) for v in answers_to_posters(200))


# -- (b) the spammer who reads the rule ------------------------------------------------

def bot_run(engine: Engine, hours: int, per_hour: int, start: float = T0,
            sender: str = "bot") -> list[Any]:
    out, n = [], 0
    for h in range(hours):
        for k in range(per_hour):
            out.append(engine.process(message(engine.config, f"{sender}-{n}", sender,
                                              [f"{sender}-t{n}"], OFFERS[n % 3],
                                              start + h * HOUR + k * 60)))
            n += 1
    return out


def test_socks_that_wrote_to_the_bot_buy_it_no_stranger() -> None:
    """Socks vouch only for themselves one to one: a bot three socks wrote to is held from
    its fifth target in the hour, as one none wrote to (fails on bc3862e: all delivered)."""
    e = open_engine(config(detectors=RULE_ALONE))
    for s in range(3):
        e.process(message(e.config, f"s{s}", f"sock{s}", ["bot"], "hi", T0 + s))
    out = bot_run(e, 1, 10, T0 + 60)
    assert [held(v) for v in out] == [False] * 4 + [True] * 6


def test_four_strangers_an_hour_for_two_days() -> None:
    """Four strangers an hour stay under NEW_ACCOUNT_DIRECT's bar: on 94bfefc all 192 of a
    bot's first 48 h were delivered. Closed (session 30, ``strangers``): its day's strangers
    nobody answered hold it from the tenth (COLD_OUTREACH, at any age): 9 delivered."""
    out = bot_run(open_engine(config(detectors=RULE_ALONE)), 48, 4)
    assert Counter(v.action for v in out)["deliver"] < 10


def test_an_account_aged_two_days_before_use() -> None:
    """An account aged past new_account_age before use: on 94bfefc 40 strangers in an hour
    were all delivered with the rule alone. Closed (session 30): cold outreach holds at any
    age, from the tenth stranger nobody answered (31 of 40 held)."""
    e = open_engine(config(detectors=RULE_ALONE))
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="bot", contacts=[]))
    out = bot_run(e, 1, 40, T0 + 49 * HOUR)
    assert sum(held(v) for v in out) >= 30


@pytest.mark.xfail(strict=True, reason=(
    "open: a conversation of two recipients is a room (accounts.in_room) whether or not the "
    "server stated it, and a room post is never NEW_ACCOUNT_DIRECT: a bot naming a fresh "
    "conversation for each pair of targets reached 60 strangers in 30 minutes, none "
    "held (24 warned). Closing it by rooms.py's principle (an unstated conversation is the "
    "client's claim) holds a newcomer's greeting on a platform that states no rooms"))
def test_pairs_of_targets_in_conversations_of_the_bots_own_naming() -> None:
    e = open_engine(config(detectors=RULE_ALONE))
    out = [e.process(message(e.config, f"m{i}", "bot", [f"t{2 * i}", f"t{2 * i + 1}"],
                             OFFERS[i % 3], T0 + 60 * i, conversation=f"g{i}"))
           for i in range(30)]
    assert sum(held(v) for v in out) >= 25


# -- bytes: the takeover record's v4 numbers' table, fuzzed -----------------------------

def _hostile(rng: random.Random, zero: bool) -> float:
    """A double of any bits: NaNs with payloads, infinities, subnormals, negatives, the
    largest; a zero only where ``zero`` (a risk: equal numbers share one entry, so +0.0
    and -0.0 elsewhere read back as the first of them, as in v3)."""
    special = (math.nan, -math.nan, math.inf, -math.inf, 5e-324, -5e-324, sys.float_info.max,
               float(1 << 31), math.nextafter(float(1 << 31), 0.0), T0, 4_102_444_799.999)
    pick = rng.random()
    if pick < 0.3:
        found = rng.choice(special)
    elif pick < 0.6:
        found = T0 + rng.uniform(-800, 800) * 86_400
    else:
        found = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if found == 0.0 and not zero:
        return 1.0
    if zero and rng.random() < 0.3:
        return rng.choice((0.0, -0.0))
    return found


def _alive(rng: random.Random) -> float:
    """A time that decides whether a part is kept (``_encode`` compares it with now): any
    finite double after the fuzz's ``now``."""
    while True:
        found = _hostile(rng, zero=False)
        if math.isfinite(found) and found > -1e11:
            return found


_ADDRESSES = ("1.2.3.4", "01.2.3.4", "1.2.3.4\x00", "255.255.255.255", "0x7f.0.0.1", "1.2.3",
              "١.٢.٣.٤", "1.2.3.4 ", "", "::ffff:1.2.3.4", "0.0.0.0", "1.2.3.4/24", "a" * 300,
              "\U0001f600.1.1.1", "%", "tk:", "\x1f")


def _fuzzed(rng: random.Random, nets: int) -> dict[str, Any]:
    names = [rng.choice(_ADDRESSES) + str(n) if rng.random() < 0.5 else rng.choice(_ADDRESSES)
             for n in range(nets)]
    sessions = {rng.choice(_ADDRESSES) + f"s{n}": [
        rng.choice(_ADDRESSES), rng.choice(_ADDRESSES), _hostile(rng, False), n,
        _hostile(rng, True), n % 2, n, _alive(rng), (n >> 1) % 2] for n in range(8)}
    return {"k": {f"p{n}": _alive(rng) for n in range(4)},
            "p": {"last": _hostile(rng, False), "msgs": rng.randrange(1 << 40),
                  "nets": {n: [_hostile(rng, False), _hostile(rng, False), i]
                           for i, n in enumerate(names)}},
            "pt": _alive(rng),
            "s": sessions,
            "l": {rng.choice(_ADDRESSES) + str(n): _alive(rng) for n in range(16)},
            "i": [_alive(rng), [{"session": rng.choice(_ADDRESSES), "since": _hostile(rng, False),
                                "net": rng.choice(_ADDRESSES), "range": "1.2.3.0/24",
                                "family": "im"} for _ in range(3)]]}


def _v3(stored: bytes) -> bytes:
    """A v4 record as the release before stored it: the table eight bytes a number, a risk
    of +0.0 an index into it, the links behind the version (``[3, name, time, ...]``)."""
    from test_takeover_record_sixes import v4_parts

    head, hour, names, table, profile, sessions, live, incidents, sent = v4_parts(stored)
    numbers = takeover_record._numbers(table, 0)[:-1]
    zero = len(numbers)
    numbers.append(0.0)
    sessions[6::9] = [zero if risk == -1 else risk for risk in sessions[6::9]]
    head = [3, *head[1:]] if isinstance(head, list) else 3
    return msgspec.msgpack.encode([head, hour, names, array("d", numbers).tobytes(), profile,
                                   sessions, live, incidents, sent])


@pytest.mark.parametrize("nets", [0, 6, 3_000])
def test_the_v4_record_reads_back_any_numbers_and_strings_bit_for_bit(nets: int) -> None:
    """Fuzz (``bytes``'s v4, and v3 read by the same code): 40 records each of hostile
    doubles in every place a number goes (NaN payloads, infinities, subnormals, the largest,
    times across the top bytes' boundary, risks of +0.0 and -0.0) and strings that look
    like networks, up to a table of 6,000 numbers: each reads back bit for bit from v4,
    and from the v3 bytes the release before wrote, which are put back as v4. Passes on
    main (daaf0fe); the record's own tests fail on bc3862e."""
    from test_takeover_record_sixes import _strictly

    rng = random.Random(2029 + nets)
    for _ in range(40 if nets < 1_000 else 3):
        written = _fuzzed(rng, nets)
        stored, _ = takeover_record._encode(written, -1e12, *_TTLS)
        _strictly(takeover_record.decode(stored), written)
        older = _v3(stored)
        assert isinstance(msgspec.msgpack.decode(older)[3], bytes)
        _strictly(takeover_record.decode(older), written)
        again = Record("alice", older, *_TTLS)
        again.set_profile(written["p"], written["pt"])
        put = again.put(-1e12)
        assert put is not None and put.value[:1] == b"\xc1"  # v6 since session 37
        _strictly(takeover_record.decode(put.value), written)


# -- redteam: ties planted by socks that list the victim --------------------------------

def _socks_list_alice(write_first: str) -> list[Any]:
    """Six fresh accounts list alice (a month of life, friends who list her back); each
    asks her for a link (one to one, or in a room of theirs with her: ``write_first``; ""
    asks nothing), and her new phone (her official app, a network new to her) sends each
    a link of her shop."""
    from test_attack_session25 import OFFICIAL_APP
    from test_attack_session29 import befriended

    engine = befriended()
    cfg = engine.config
    phone = {"id": OFFICIAL_APP, "ip": "10.9.8.7"}
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="newphone", ip=phone["ip"], client={"id": OFFICIAL_APP}))
    room = ["alice", *(f"sock{s}" for s in range(6)), *(f"x{i}" for i in range(10))]
    out = []
    for s in range(6):
        sock = f"sock{s}"
        engine.process(event(cfg, type="contacts", id=f"{sock}-list", ts=T0 - 3_600,
                             account=sock, contacts=["alice"]))
        asked = {"session": sock, "client": {"id": "im-ios", "ip": f"100.71.{s}.3"}}
        if write_first == "dm":
            engine.process(message(cfg, f"{sock}-asks", sock, ["alice"],
                                   "hi alice! loved your post, can you send me the link?",
                                   T0 + 120 * s, **asked))
        elif write_first == "room":
            engine.process(message(cfg, f"{sock}-asks", sock, [m for m in room if m != sock],
                                   "alice can you DM me the link?", T0 + 120 * s,
                                   conversation="club", **asked))
        out.append(engine.process(message(
            cfg, f"answer{s}", "alice", [sock], f"sure! https://alice-shop.example.com/i/{s}",
            T0 + 120 * s + 40, session="newphone", client=phone)))
    return out


@pytest.mark.parametrize("write_first", ["dm", "room"])
def test_socks_that_list_alice_and_ask_for_a_link_plant_no_tie(write_first: str) -> None:
    """Guard (passes on 94bfefc and on main): ``redteam`` made a recipient who lists the
    account its tie. Socks that list alice and ask her, one to one or in a room, for her
    shop's link get six answers from her new phone: all delivered, no account action
    (what just wrote to her stands on her list alone for the burst)."""
    out = _socks_list_alice(write_first)
    assert [v.action for v in out] == ["deliver"] * 6
    assert {v.account_action.action for v in out} == {"none"}


@pytest.mark.xfail(strict=True, reason=(
    "open, redteam's price: socks that list alice and never write to her are ties of hers; "
    "her new phone writing to six of them unprompted with links is a burst: 2 delivered, 1 "
    "warned, 3 held, sending suspended (on 94bfefc six delivered). Real fans who added her "
    "are the same events; the socks must make her write first, which they cannot by any "
    "event of theirs"))
def test_socks_that_list_alice_are_no_ties_when_she_writes_to_them_unprompted() -> None:
    out = _socks_list_alice("")
    assert {v.account_action.action for v in out} == {"none"}


# -- cuts: a session read remembered by its own bytes, against crafted session ids ------

def _guest_names(host: Any, rng: random.Random) -> str:
    """A session id made of the account's lodged guests' bytes: most often one guest's
    whole bytes (its lengths, name, names and times), else a slice anywhere, with a
    letter either side or none."""
    from spimguard.state.memory import _GUEST

    blob, starts, at = bytes(host.guests), [], 0
    while at < len(blob):
        size = _GUEST.size + sum(_GUEST.unpack_from(blob, at))
        starts.append((at, at + size))
        at += size
    if rng.random() < 0.7:
        i, j = rng.choice(starts)
    else:
        i = rng.randrange(len(blob))
        j = rng.randrange(i, min(len(blob), i + 40) + 1)
    return rng.choice(("", "x", "s")) + blob[i:j].decode("latin-1") + rng.choice(("", "1"))


@pytest.mark.parametrize("seed", range(40))
def test_a_remembered_session_read_answers_as_a_fresh_decode_whatever_the_ids(
        seed: int) -> None:
    """Fuzz (``cuts``: the read remembered by the guest's own bytes, compared where each
    guest starts): 300 steps of touches, forgets and reloads behind the store's back
    (``load_sided``) of one account's sessions, ids made of its own guests' bytes (a whole
    guest's, or any slice), times whose doubles are ASCII; every read answers as the same
    store decoding afresh. Passes on main and with ``cuts``; fails (seeds 9, 15, 27, 31,
    32) when the remembered bytes are searched for anywhere in the account's (``held in
    lodged``)."""
    from spimguard.state.conformance import GUEST, GUEST_SIDES, SIDED
    from spimguard.state.memory import MemoryState
    from spimguard.state.ops import Contains, Members, Touch, guest_key

    later, ttl = 2.0**18, 2.0**19  # doubles whose bytes are all below 0x80
    rng = random.Random(seed)
    state, fresh = MemoryState(), MemoryState()
    names, now = ["s1", "s", "s10", "x", "1"], 0.0
    for _ in range(300):
        now = max(now, rng.choice((0.0, later, 2 * later, 3 * later, 4 * later)))
        host = state.accounts().get(f"{SIDED}h")
        if host is not None and host.lodged and rng.random() < 0.3:
            made = _guest_names(host, rng)
            if made and ":" not in made and "%" not in made and max(map(ord, made)) < 0x80:
                names.append(made)
        key, side, op = guest_key(GUEST, "h", rng.choice(names)), rng.choice(GUEST_SIDES), (
            rng.random())
        if op < 0.45:
            touch = [Touch(key, (rng.choice(("@a", "@b", "@c", "@d" * 20)),), ttl, 3, side)]
            state.write(touch, now)
            fresh.write(touch, now)
        elif op < 0.55:
            state.forget(key)
            fresh.forget(key)
        elif op < 0.6 and fresh.sided_record(key) is not None:
            other = MemoryState()  # another process's row, loaded behind the store's back
            other.write([Touch(key, ("@new",), ttl, 10, side)], now)
            for store in (state, fresh):
                loaded = other.sided_record(key)
                assert loaded is not None
                store.load_sided(key, loaded)
        else:
            asked = [q for n in rng.sample(names, min(3, len(names)))
                     for q in (Members(guest_key(GUEST, "h", n), rng.choice(GUEST_SIDES)),
                               Contains(guest_key(GUEST, "h", n), ("@a", "@b"),
                                        rng.choice(GUEST_SIDES)))]
            fresh._guests_read.clear()
            assert state.read(asked, now) == fresh.read(asked, now), asked
