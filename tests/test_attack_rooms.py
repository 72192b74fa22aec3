"""Red team, session 14: group rooms and the vouchers that carry them
(``accounts.room_carried``), tried from a spammer's seat who reads the rule (one room of
others an hour a voucher, a room as one target however large) and from the seat of a new
member whose few friends are in several of its rooms.

Findings still open are ``xfail(strict=True)``, their reasons stating the numbers; a fix
turns each into a regression test.
"""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from test_attack_strangers import SHOP

# The bot's words, other each room, so the bulk detector's near-duplicates see no push.
VARIED = [
    "hi everyone, we just opened a little shop for phone cases, have a look at casecorner.shop",
    "new phone? cases and chargers half price this week only at gadgetbarn.shop",
    "hey all! handmade leather wallets, free delivery, order from wallet-works.shop",
    "friends, our bakery now delivers: cakes and bread at crumbandco.shop",
    "summer sale on sunglasses, every pair under ten euros: shadeshack.shop"]


def _bot_rooms(socks: int, targets: int, rooms: int, gap: float, *,
               one_room: bool = False, words: tuple[str, ...] = (SHOP,)) -> Counter[str]:
    """A bot first seen ten minutes ago, its ``socks`` each writing it a line, pitches
    ``rooms`` rooms of its socks and ``targets`` fresh targets, one every ``gap`` s (into
    one conversation whose members it changes each time: ``one_room``), in ``words``
    taken in turn; the actions."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 600, account="bot",
                         created=T0 - 600))
    own = [f"sock{i}" for i in range(socks)]
    for i, sock in enumerate(own):
        engine.process(message(cfg, f"s{i}", sock, ["bot"], "hey", T0 - 300 + i))
    return Counter(engine.process(message(
        cfg, f"g{g}", "bot", own + [f"t{g}-{i}" for i in range(targets)],
        words[g % len(words)], T0 + 60 + gap * g,
        conversation="room" if one_room else f"room-{g}")).action for g in range(rooms))


def test_three_socks_a_room_do_not_vouch_for_a_bot() -> None:
    """The fewest socks that vouch for a room of any size (``ROOM_VOUCHERS``), in 30 rooms
    of ten targets five minutes apart: before, they carried every room (30 warned); now
    the first only (23 blocked, 4 held, 3 warned)."""
    found = _bot_rooms(3, 10, 30, 300)
    assert found["block"] + found["hold"] >= 24, found


def test_a_bot_filling_the_checked_members_with_socks_spends_them() -> None:
    """A room's ties are checked for its first ``MAX_TIES`` members, and a room every
    member vouches for (a family group) spends no voucher. A bot that adds 64 socks to
    each of its rooms first, then ten targets, and varies its words (no bulk evidence):
    before, every checked member vouched, so the room counted as a family and its
    socks vouched for every room (22 warned, 6 blocked, 2 held, the last on the words);
    a room is a family only when all its members vouch, not only those checked (25
    blocked, 5 warned)."""
    found = _bot_rooms(accounts.MAX_TIES, 10, 30, 120, words=VARIED)
    assert found["block"] + found["hold"] >= 24, found


@pytest.mark.parametrize(("socks", "targets", "rooms", "gap", "one_room"), [
    pytest.param(0, 5, 30, 120, True, id="rotating-one-room"),
    pytest.param(3, 5, 30, 120, True, id="rotating-one-room-with-socks"),
    pytest.param(0, 60, 12, 3660, False, id="one-large-room-an-hour"),
    pytest.param(3, 200, 12, 3660, False, id="three-socks-carry-a-room-of-200-an-hour",
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "review: a room stands vouched once ROOM_VOUCHERS (3) of its checked "
                     "members vouch, however many others it holds, and a carried room "
                     "reaches nobody: three socks that each wrote the bot a line carry one "
                     "room of 200 fresh targets every 61 minutes, 12 rooms (2,400 strangers "
                     "in 12 h) all warned, none held (varied words: 10 warned, 2 blocked). "
                     "The window caps the rooms a voucher carries, not the people in each; "
                     "bounding a carried room's strangers by its vouchers would count a "
                     "newcomer's public room with three friends in it too: a policy call"))),
])
def test_a_bot_reaching_strangers_a_room_at_a_time_is_stopped(
        socks: int, targets: int, rooms: int, gap: float, one_room: bool) -> None:
    """A room nobody in it vouches for reaches each of its members (``room_carried``),
    and a conversation whose members changed is another room (``accounts.room``).
    Before, a room was one target named by its conversation, whoever was in it: a bot
    that changed the members of one conversation each time (five fresh targets a post)
    reached 150 strangers in 30 posts, all 30 warned (now 30 blocked), and three socks
    kept carrying the one room (30 warned; now 25 blocked, 3 held); one room of 60
    targets every 61 minutes was one stranger in every hour's window, 12 rooms warned
    (now 12 blocked; 31 minutes apart: 11 held, now 12 blocked)."""
    found = _bot_rooms(socks, targets, rooms, gap, one_room=one_room)
    assert found["block"] + found["hold"] >= 0.8 * rooms, found


def test_a_room_is_its_conversation_and_the_people_in_it() -> None:
    assert accounts.room("r", ["a", "b", "a"]) == accounts.room("r", ["b", "a"])
    assert accounts.room("r", ["a", "b"]) != accounts.room("r", ["a", "c"])
    assert accounts.room("r", ["a", "b"]) != accounts.room("s", ["a", "b"])
    assert accounts.room("r", ["ab"]) != accounts.room("r", ["a", "b"])


def test_a_stranger_room_reaches_its_members_by_name() -> None:
    """Two vouchers among five strangers carry nothing: the room reaches the strangers
    one by one (and the listed member as unvouched), not as one target."""
    checked = ["v0", "v1", "u0", "s0", "s1", "s2", "s3", "s4"]
    members = accounts.Standing(["s0", "s1", "s2", "s3", "s4"], ["u0"])
    found = accounts.room_carried(members, checked, "conv:r", [False] * 16, 8)
    assert found == accounts.Carried(members, ())


def _overlapping(friends: int, lurkers: int, rooms: int) -> list[str]:
    """A day-old member of ``rooms`` club rooms, each its ``friends`` (the same people in
    every room: they talk in each and wrote to it there) and ``lurkers`` of its own who
    never wrote, posts the club's announcement with a link in each, five minutes apart."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 600, account="new",
                         created=T0 - 86_400))
    core = [f"f{i}" for i in range(friends)]
    actions = []
    for g in range(rooms):
        room = core + [f"l{g}-{i}" for i in range(lurkers)]
        for i, who in enumerate(core):
            engine.process(message(cfg, f"x{g}-{i}", who, [p for p in room if p != who]
                                   + ["new"], f"morning all {i}", T0 + 10 * g + i,
                                   conversation=f"club-{g}"))
        actions.append(engine.process(message(
            cfg, f"n{g}", "new", room,
            f"club meeting moved to thursday, details and signup at forms.gle/club{g}",
            T0 + 600 + 300 * g, conversation=f"club-{g}")).action)
    return actions


def test_a_new_member_posting_an_announcement_to_three_club_rooms_is_delivered() -> None:
    """The same four friends are the talkers of three rooms of 20: the friends carry the
    first; the others stand as strangers (two in the hour: NEW_ACCOUNT_STRANGERS), and
    the announcement is still delivered on its words."""
    assert _overlapping(4, 16, 3) == ["deliver"] * 3


@pytest.mark.xfail(strict=True, reason=(
    "red team, session 14: the same four friends, the only talkers of six rooms of 20 a "
    "day-old member posts an announcement to within the hour, carry the first room; the "
    "other five are strangers, and the sixth post is held (main: six delivered); five "
    "friends in eight rooms of 35: deliver 2, warn 3, hold 2, block 1 (main: eight "
    "delivered). Friends who talk in each room cannot be told from socks added to each "
    "without reading the friends' ties to the rooms' other members (a second round)."))
def test_a_new_member_whose_friends_are_in_six_of_its_rooms_is_delivered() -> None:
    assert _overlapping(4, 16, 6) == ["deliver"] * 6

