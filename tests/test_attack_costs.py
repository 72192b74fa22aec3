"""What one hostile event costs, and whose state it changes (red team, session 24).

The costliest events a client (or a remote homeserver) can send within the contract's
bounds, each measured as a count of work or a bound on state: never a wall-clock time
(``benchmarks/hostile.py`` prints the figures)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import T0, event
from spimguard import accounts, load_config, open_engine, rooms
from spimguard.server.app import create_app
from spimguard.server.console.memory import MemoryConsole
from spimguard.server.matrix import MatrixBridge
from spimguard.server.metrics import Metrics
from spimguard.state import sided
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Members, Touch
from test_console import _attacked

MX_TOKEN = "matrix-token-0123456789abcdef"


def _bridge(max_room_members: int) -> MatrixBridge:
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN,
                                   "max_room_members": max_room_members})
    return MatrixBridge(open_engine(settings), settings.matrix, Metrics())


def _remote_join(bridge: MatrixBridge, user: str, room: str) -> None:
    """A remote server's ``m.room.member`` join of its own user (checked before auth)."""
    bridge.event({"event": {"type": "m.room.member", "sender": user, "room_id": room,
                            "state_key": user, "content": {"membership": "join"}}})


def test_a_remote_servers_puppets_push_no_local_member_out_of_its_room() -> None:
    """A remote user's own join, checked before Synapse's auth, made it a member, and a
    room keeps ``max_room_members``, the stalest dropped: a server's puppets joining one
    by one pushed out every member this homeserver had stated (5,000 joins emptied a
    family room of its own users, whose posts were then judged as posts to 5,000
    strangers). A full room takes no join before auth."""
    bridge = _bridge(max_room_members=50)
    fam, locals_ = "!fam:s", ("@alice:s", "@bob:s")
    for user in locals_:
        bridge.dispatch("user_may_join_room", {"user": user, "room": fam, "is_invited": False})
    for i in range(80):
        _remote_join(bridge, f"@p{i}:evil", fam)
    stated = bridge.engine.read_state([Contains(f"mx:room:{fam}", locals_),
                                       Contains(rooms.members(fam), locals_)])
    assert stated == [(True, True), (True, True)]
    held = bridge.engine.read_state([Members(f"mx:room:{fam}")])[0]
    assert len(held) == 50


def test_a_remote_join_reads_no_member_list() -> None:
    """Each remote join read the room's every member (to ask whether it held one): O(room)
    a join, O(room²) to fill one. It asks whether the user is in and how many are."""
    bridge = _bridge(max_room_members=200)
    listed: list[int] = []
    read = bridge.engine.read_state

    def counting(queries: Any, now: float | None = None) -> list[Any]:
        answers = read(queries, now)
        listed.extend(len(a) for q, a in zip(queries, answers, strict=True)
                      if isinstance(q, Members))
        return answers

    bridge.engine.read_state = counting  # type: ignore[method-assign]
    for i in range(150):
        _remote_join(bridge, f"@p{i}:evil", "!big:s")
    assert sum(listed) == 0


@contextmanager
def _calls() -> Iterator[Callable[[], int]]:
    """Python and C calls made from Python code in the block: a count of work."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        yield lambda: count
    finally:
        sys.setprofile(None)


def test_touches_of_one_set_at_one_time_cost_a_bounded_work_each() -> None:
    state = MemoryState()
    touches = [Touch("rep:senders:promo.example", (f"@s{i:05d}",), 86_400.0, 10_000)
               for i in range(1_000)]
    with _calls() as made:
        for touch in touches:
            state.write([touch], T0)
    assert made() <= 100 * len(touches)


def test_an_accounts_new_correspondents_past_the_cap_rebuild_no_index(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A touch past a side's cap dropped its stalest member and built the record's index
    again (every name, every side): each new correspondent of an account at TALKED_CAP
    (2,000) cost O(2,000), 3.9 ms a message from 3,000 distinct senders (17 s for 8,000 at
    one ts). A name leaving marks its slot gone (``sided._Index.gone``)."""
    state = MemoryState()
    ties = accounts.tie_record("@v")

    def talked(i: int) -> Touch:
        return Touch(ties, (f"@s{i}",), accounts.TALKED_TTL, accounts.TALKED_CAP,
                     accounts.TALKED)

    for i in range(accounts.TALKED_CAP + 100):
        state.write([talked(i)], T0 + i)
    built = 0
    index = sided._Index

    class Counted(index):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            nonlocal built
            built += 1
            super().__init__(*args)

    monkeypatch.setattr(sided, "_Index", Counted)
    for i in range(accounts.TALKED_CAP + 100, accounts.TALKED_CAP + 200):
        state.write([talked(i)], T0 + i)
    assert built <= 5


def test_a_record_of_many_times_is_touched_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record holding 255 distinct times took the slow path (``sided._retouched``: every
    member's time unpacked and packed again) at every later touch: one account writing to
    3,000 new people a millisecond apart cost 8.2 ms a message. Its ranks widen to two
    bytes once, and a touch changes them in place."""
    state = MemoryState()
    ties = accounts.tie_record("@s")

    def talked(i: int) -> Touch:
        return Touch(ties, (f"@v{i}",), accounts.TALKED_TTL, accounts.TALKED_CAP,
                     accounts.TALKED)

    for i in range(1_500):
        state.write([talked(i)], T0 + i / 1_000)
    slow = 0
    retouched = sided._retouched

    def counted(*args: Any) -> Any:
        nonlocal slow
        slow += 1
        return retouched(*args)

    monkeypatch.setattr(sided, "_retouched", counted)
    for i in range(1_500, 1_600):
        state.write([talked(i)], T0 + i / 1_000)
    assert slow <= 5

def test_an_appeal_flood_keeps_nothing_and_hides_no_one_elses_appeal() -> None:
    """Every appeal was kept, forever, whatever it named: one account's appeals under
    fresh ids (of others' messages, of none, 64 KiB each) grew the console's store without
    bound and pushed a held sender's own appeal off the console's latest 200. One is kept
    of a message the records hold as the appealing account's and stopped, once."""
    judge = _attacked()
    assert judge.records.message("m9").action in ("hold", "block")  # u9's, held
    store = MemoryConsole()
    client = TestClient(create_app(judge, store))
    headers = {"Authorization": "Bearer tok"}
    own = {"type": "appeal", "id": "ap-u9", "ts": T0 + 100, "account": "u9",
           "message_id": "m9", "text": "it was me"}
    flood = [{"type": "appeal", "id": f"flood{i}", "ts": T0 + 200, "text": "x" * 1_000,
              **({"account": "u9", "message_id": "m9"} if i % 3 == 0 else
                 {"account": "mallory", "message_id": "m9" if i % 3 == 1 else f"none{i}"})}
             for i in range(300)]
    for events in ([own], flood):
        assert client.post("/v1/events", json={"events": events},
                           headers=headers).status_code == 200
    assert [(a.account, a.message_id, a.text) for a in store.appeals()] == [
        ("u9", "m9", "it was me")]


def test_a_messages_recipients_are_written_once_not_once_a_domain() -> None:
    """Reputation named a message's every recipient twice for each of its 8 domains (8
    links to 10,000 people: 160,000 members, 0.6 s of CPU on SQLite, blocked or not). Past
    the ties cap they are counted a domain, not named (``detectors/reputation.py``)."""
    judge = open_engine(load_config(environ={}, storage={"backend": "memory"}))
    touched = 0
    write = judge.state.write

    def counting(writes: Any, now: float) -> None:
        nonlocal touched
        touched += sum(len(w.members) for w in writes
                       if isinstance(w, Touch) and w.key.startswith("rep:"))
        write(writes, now)

    judge.state.write = counting  # type: ignore[method-assign]
    people = [f"@r{k}" for k in range(2_000)]
    text = " ".join(f"http://shop{k}.example{k}.com/x" for k in range(8))
    judge.process(event(judge.config, type="message", id="m", ts=T0, sender="@s",
                        recipients=people, text=text))
    assert touched <= 2 * len(people) + 8 * 4
