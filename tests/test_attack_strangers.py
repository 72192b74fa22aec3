"""Red team, session 13: strangers reached through group conversations, and a campaign that
rotates more bots than the bulk detector's list of recent senders holds.

Groups. Velocity counted a group conversation as one target and checked nobody in it for
strangers, so a bot that gathers its targets into groups of five (many platforms let anyone
add anyone to a group) and pitches each group once was judged on its words and links alone.
A room is people who joined it: it stands to the sender as most of its members do
(``accounts.room_standing``), so a family group of phone-book friends is vouched and a
room of people who never vouched for the sender reaches each of them (session 14).

Rotation. Bulk's reach per sender (recipients over distinct senders) is what tells a push
(few bots, many copies each) from sharing (many people, a few friends each). A sender off
the cluster's list of its 32 most recent senders counted as a new sender's first copy, so
100 bots taking turns each looked new every time: reach one, no bulk evidence when the
targets had vouched for their bot (accepted its contact request). The senders pushed off
the list are now kept in a windowed bitmap.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from spimguard.detectors.base import Context
from spimguard.detectors.bulk import BulkDetector, Cluster, _Sketch, _slot
from spimguard.engine import Engine

# Words and a link the content model lets through with a warning at most: what the
# behaviour evidence has to carry.
SHOP = "hi everyone, we just opened a little shop for phone cases, have a look at casecorner.shop"
STRANGER_CODES = {"VELOCITY_STRANGERS", "NEW_ACCOUNT_STRANGERS", "NEW_ACCOUNT_LINKS"}


def _codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def _pitch_groups(listed: bool) -> list[Any]:
    """A new bot pitches 30 groups of five targets each, one every two minutes (slow
    enough for no fan-out evidence); with ``listed``, its own list names every target."""
    engine = open_engine(config())
    cfg = engine.config
    targets = [f"t{i}" for i in range(150)]
    if listed:
        engine.process(event(cfg, type="contacts", id="c", ts=T0, account="bot",
                             contacts=targets))
    return [engine.process(message(cfg, f"g{g}", "bot", targets[5 * g:5 * g + 5], SHOP,
                                   T0 + 60 + 120 * g, conversation=f"room-{g}"))
            for g in range(30)]


@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed"])
def test_a_bot_pitching_groups_of_its_targets_writes_to_strangers(listed: bool) -> None:
    """Before: 30 warned, on the words and the link alone (no stranger evidence)."""
    verdicts = _pitch_groups(listed)
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    assert stopped >= 24, [v.action for v in verdicts]
    assert "NEW_ACCOUNT_LINKS" in _codes(verdicts[-1])


def _family(engine: Engine, newcomer: str, groups: int, size: int, back: bool) -> None:
    """``groups`` groups of ``size`` people, each listing the others and ``newcomer``
    (listing it back only when ``back``); the newcomer lists them all."""
    cfg = engine.config
    everyone = [f"g{g}-{i}" for g in range(groups) for i in range(size)]
    engine.process(event(cfg, type="contacts", id="c-new", ts=T0, account=newcomer,
                         contacts=everyone))
    for g in range(groups):
        room = [f"g{g}-{i}" for i in range(size)]
        for who in room:
            theirs = [p for p in room if p != who] + ([newcomer] if back else [])
            engine.process(event(cfg, type="contacts", id=f"c-{who}", ts=T0, account=who,
                                 contacts=theirs))


@pytest.mark.parametrize("back", [True, False], ids=["listed-back", "not-yet-added"])
def test_a_newcomer_sharing_a_link_in_its_family_groups_is_no_stranger(back: bool) -> None:
    """A new account posts a link into each of its groups of phone-book friends within the
    hour: those who list it back vouch for it; those who have not added it yet are
    unvouched, within the handful a newcomer writes to first."""
    engine = open_engine(config())
    groups = 6 if back else accounts.UNVOUCHED_ALLOWANCE
    _family(engine, "alice", groups, 4, back)
    for g in range(groups):
        verdict = engine.process(message(
            engine.config, f"m{g}", "alice", [f"g{g}-{i}" for i in range(4)],
            "photos from sunday are up, look: https://photos.example.org/album/sunday",
            T0 + 600 + 300 * g, conversation=f"family-{g}"))
        assert not _codes(verdict) & STRANGER_CODES, verdict
        assert verdict.action == "deliver", verdict


def test_a_room_whose_members_talked_with_the_sender_vouches_for_it() -> None:
    """Members who wrote in the room wrote to every member (ties of a delivered message):
    a quiet member's first posts into rooms of chatty strangers-turned-correspondents are
    no strangers."""
    engine = open_engine(config())
    cfg = engine.config
    for g in range(6):
        room = [f"r{g}-{i}" for i in range(5)]
        for i, who in enumerate(room):
            engine.process(message(cfg, f"chat{g}-{i}", who,
                                   [p for p in room if p != who] + ["quiet"],
                                   f"anyone up for football on saturday {i}", T0 + 10 * i,
                                   conversation=f"club-{g}"))
        verdict = engine.process(message(cfg, f"q{g}", "quiet", room, "count me in",
                                         T0 + 600 + 60 * g, conversation=f"club-{g}"))
        assert not _codes(verdict) & STRANGER_CODES, verdict


@pytest.mark.parametrize(("created", "actions"), [
    (T0 - 30 * 86_400, ["deliver", "deliver"]),
    (T0 - 3600, ["warn", "warn"]),
])
def test_a_post_into_a_large_room_nobody_knows_the_sender_in_reaches_its_members(
        created: float, actions: list[str]) -> None:
    """A room of 300 none of whom ever heard from the sender: each checked member is a
    stranger reached (``MAX_TIES`` of them), once however often it posts there. A
    month-old member's greetings are delivered; an hour-old account's are warned, as its
    one-to-one greetings to as many strangers would be (before: one stranger, the room,
    delivered whatever the sender's age: a bot's one room of 60 an hour went unseen)."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 10, account="newbie",
                         created=created))
    members = [f"m{i}" for i in range(300)]
    verdicts = [engine.process(message(cfg, f"p{i}", "newbie", members, text, T0 + 60 * i,
                                       conversation="public"))
                for i, text in enumerate(["hello all, glad to be here", "thanks, you too"])]
    assert [v.action for v in verdicts] == actions, verdicts
    reached = f"wrote to {accounts.MAX_TIES} accounts"
    assert all(any(s.code == "VELOCITY_STRANGERS" and reached in s.detail
                   for s in v.signals) for v in verdicts), verdicts


def _members(strangers: int, unvouched: int, vouched: int) -> accounts.Standing:
    return accounts.Standing([f"s{i}" for i in range(strangers)],
                             [f"u{i}" for i in range(unvouched)])


@pytest.mark.parametrize(("strangers", "unvouched", "vouched", "stands"), [
    (0, 0, 4, "vouched"),  # a family group
    (1, 1, 2, "vouched"),  # half vouch
    (0, 4, 0, "unvouched"),  # a newcomer's friends, not yet listing it back
    (2, 1, 1, "unvouched"),  # half listed or vouching
    (5, 0, 0, "stranger"),  # a bot's targets
    (5, 0, 1, "stranger"),  # ... and one sock that lists the bot back
    (4, 1, 0, "stranger"),
])
def test_a_room_stands_as_most_of_its_members_do(strangers: int, unvouched: int,
                                                  vouched: int, stands: str) -> None:
    found = accounts.room_standing(_members(strangers, unvouched, vouched),
                                   strangers + unvouched + vouched, "conv:r")
    expected = {"vouched": accounts.Standing([], []),
                "unvouched": accounts.Standing([], ["conv:r"]),
                "stranger": accounts.Standing(["conv:r"], [])}[stands]
    assert found == expected


# -- bulk: more bots than the list of recent senders -----------------------------------

PITCH = "hi {n}, we just opened a little shop for phone cases, have a look at casecorner.shop"


def _rotating_campaign(bots: int, per_bot: int = 6) -> list[Any]:
    """``bots`` bots, each with ``per_bot`` targets who accepted its contact request (list
    it back: no strangers), take turns sending the pitch, one copy every 10 s: each
    copy's BULK_NEAR_DUPLICATE signal (None when it did not fire)."""
    engine = open_engine(config())
    cfg = engine.config
    for b in range(bots):
        targets = [f"t{b}-{k}" for k in range(per_bot)]
        engine.process(event(cfg, type="contacts", id=f"c{b}", ts=T0, account=f"bot{b}",
                             contacts=targets))
        for t in targets:
            engine.process(event(cfg, type="contacts", id=f"c-{t}", ts=T0, account=t,
                                 contacts=[f"bot{b}"]))
    found = []
    for k in range(per_bot):
        for b in range(bots):
            t = f"t{b}-{k}"
            verdict = engine.process(message(cfg, f"m{k}-{b}", f"bot{b}", [t],
                                             PITCH.format(n=t), T0 + 3600 + 10 * len(found)))
            found.append(next((s for s in verdict.signals
                               if s.code == "BULK_NEAR_DUPLICATE"), None))
    return found


@pytest.mark.parametrize("bots", [20, 80])
def test_a_campaign_rotating_more_bots_than_the_list_holds_is_still_a_push(bots: int) -> None:
    """20 bots fit the list of recent senders (the premise); 80 do not. Before: 80 bots'
    480 copies got no BULK_NEAR_DUPLICATE at all (reach one copy per sender)."""
    found = _rotating_campaign(bots)
    later = found[len(found) // 2:]
    assert sum(s is not None for s in later) >= 0.9 * len(later)


def test_many_people_sending_one_greeting_to_two_friends_each_is_not_bulk() -> None:
    """300 people (more than the list holds) each send the same line to two friends who list
    them back: sharing, whatever the bitmap's collisions."""
    engine = open_engine(config())
    cfg = engine.config
    text = "happy new year to you and your family, all the best for the year ahead"
    for p in range(300):
        friends = [f"f{p}-0", f"f{p}-1"]
        engine.process(event(cfg, type="contacts", id=f"c{p}", ts=T0, account=f"u{p}",
                             contacts=friends))
        for f in friends:
            engine.process(event(cfg, type="contacts", id=f"c-{f}", ts=T0, account=f,
                                 contacts=[f"u{p}"]))
        verdict = engine.process(message(cfg, f"m{p}", f"u{p}", friends, text,
                                         T0 + 60 + 5 * p))
        assert "BULK_NEAR_DUPLICATE" not in _codes(verdict), verdict
        assert verdict.action == "deliver", verdict


def _arrival(cluster: Cluster, sender: str, ts: float) -> float:
    bulk = BulkDetector({}, config())
    arriving = message(config(), "x", sender, ["r"], "hi", ts)
    return bulk._count_arrival(Context(arriving), cluster, arriving, sender in cluster.senders)


def test_the_sketch_knows_senders_pushed_off_the_list_for_its_window() -> None:
    bulk, bits = BulkDetector({}, config()), 1024
    window = bulk.cfg.sender_window
    cluster = Cluster(id="c", first=T0, last=T0, senders=[f"s{i}" for i in range(32)])
    bulk._sketched(Context(message(config(), "y", "s0", ["r"], "hi", T0)), cluster, ["gone"], T0)
    assert _arrival(cluster, "s3", T0) == 0.0  # on the list
    assert _arrival(cluster, "gone", T0 + window) == 0.0  # pushed off, still known
    assert _arrival(cluster, "gone", T0 + 2 * window) == 1.0  # forgotten with its count
    assert _arrival(cluster, "new", T0) == pytest.approx(bits / (bits - 1))


def test_a_sketch_too_full_to_tell_counts_every_sender_off_the_list_as_new() -> None:
    """Past an eighth of its bits free, a set bit says nothing: each sender counts as the
    list alone would have it (a new sender), not as one it has seen."""
    cluster = Cluster(id="c", first=T0, last=T0, senders=["s"])
    full = (1 << 1024) - 1
    epoch = int(T0 // BulkDetector({}, config()).cfg.sender_window)
    cluster.sketch = _Sketch(epoch, full, 0).stored(1024)
    assert _slot("c", "anyone", 1024) & full
    assert _arrival(cluster, "anyone", T0) == 1.0


def test_the_same_few_socks_in_every_group_do_not_vouch_for_a_bot() -> None:
    """A new bot's five socks each write it one line, then it pitches 30 groups of its
    five socks and five targets: with no socks 26 of 30 are blocked, with them 30 warned
    (as before rooms were checked at all)."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 600, account="bot",
                         created=T0 - 600))
    socks = [f"sock{i}" for i in range(5)]
    for i, sock in enumerate(socks):
        engine.process(message(cfg, f"s{i}", sock, ["bot"], "hey", T0 + i))
    verdicts = [engine.process(message(cfg, f"g{g}", "bot",
                                       socks + [f"t{g}-{i}" for i in range(5)], SHOP,
                                       T0 + 60 + 120 * g, conversation=f"room-{g}"))
                for g in range(30)]
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    assert stopped >= 24, [v.action for v in verdicts]


# A newcomer's posts, one into each of its new groups: other words and links each time.
NEWCOMER_POSTS = [
    "hi all, here's the reading list for this week: docs.google.com/document/d/1x0",
    "the form for saturday: forms.gle/q1w, fill it before friday please",
    "new here! my portfolio is at samdesigns.net/p2, happy to help with posters",
    "rehearsal notes uploaded to dropbox.com/s/ab3/notes.pdf",
    "lost cat near the park, details on facebook.com/groups/444 thanks everyone",
    "map for the hike: maps.google.com/?q=trailhead5"]


def test_a_newcomer_posting_in_its_new_groups_where_people_talk_is_delivered() -> None:
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 86_400, account="new",
                         created=T0 - 86_400))
    verdicts = []
    for g, text in enumerate(NEWCOMER_POSTS):
        room = [f"m{g}-{i}" for i in range(20)]
        for i, member in enumerate(room[:8]):  # the talkers; the other twelve lurk
            engine.process(message(cfg, f"x{g}-{i}", member,
                                   [p for p in room if p != member] + ["new"],
                                   f"morning all {i}", T0 + 10 * g + i,
                                   conversation=f"club-{g}"))
        verdicts.append(engine.process(message(cfg, f"n{g}", "new", room, text,
                                               T0 + 600 + 300 * g, conversation=f"club-{g}")))
    assert [v.action for v in verdicts] == ["deliver"] * 6, [v.signals for v in verdicts]


@pytest.mark.parametrize(("carried", "here", "stands", "carriers"), [
    ((), (), "vouched", ("v0", "v1", "v2")),  # fresh vouchers carry the room
    (("v0", "v1", "v2"), ("v0", "v1", "v2"), "vouched", ("v0", "v1", "v2")),  # again
    (("v0", "v1", "v2"), (), "unvouched", ()),  # spent on another room: unvouched
    (("v0",), (), "unvouched", ()),  # two vouchers left: under three, under half
])
def test_vouchers_carry_one_room_of_others_at_a_time(carried: tuple[str, ...],
                                                    here: tuple[str, ...], stands: str,
                                                    carriers: tuple[str, ...]) -> None:
    """Three vouchers and two strangers: the room stands vouched while its vouchers have
    carried no other room of the sender's in the window."""
    checked = ["v0", "v1", "v2", "s0", "s1"]
    answers = [m in carried for m in checked] + [m in here for m in checked]
    found = accounts.room_carried(_members(2, 0, 3), checked, "conv:r", answers, 5)
    assert found.standing == {"vouched": accounts.Standing([], []),
                              "unvouched": accounts.Standing([], ["conv:r"])}[stands]
    assert found.carriers == (*carriers, *(f"conv:r\x1f{m}" for m in carriers))
    assert found.carriers == () or (
        accounts.carried_queries(checked, "conv:r")[5:8] == found.carriers[3:])


def test_a_family_group_spends_no_voucher() -> None:
    everyone = ["a", "b", "c"]
    found = accounts.room_carried(_members(0, 0, 3), everyone, "conv:f", [False] * 6, 3)
    assert found == accounts.Carried(accounts.Standing([], []), ())


def test_a_room_whose_checked_members_all_vouch_but_not_the_rest_spends_them() -> None:
    """Members past the ties' cap are unknown: a room is a family only if all vouch."""
    checked = ["a", "b", "c"]
    found = accounts.room_carried(_members(0, 0, 3), checked, "conv:f", [False] * 6, 4)
    assert found.standing == accounts.Standing([], [])
    assert found.carriers == (*checked, *(f"conv:f\x1f{m}" for m in checked))


def test_a_newcomer_posting_in_its_friends_several_rooms_is_delivered() -> None:
    """The same four friends talk in six rooms with two others each; a day-old account
    posts a link in each within the hour: the friends carry the first room, and the
    other five, filled with the same friends, are unvouched (the newcomer's allowance)."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 86_400, account="new",
                         created=T0 - 86_400))
    friends = [f"f{i}" for i in range(4)]
    actions = []
    for g, text in enumerate(NEWCOMER_POSTS):
        room = friends + [f"o{g}-{i}" for i in range(2)]
        for i, who in enumerate(friends):
            engine.process(message(cfg, f"x{g}-{i}", who, [p for p in room if p != who]
                                   + ["new"], f"morning all {i}", T0 + 10 * g + i,
                                   conversation=f"club-{g}"))
        actions.append(engine.process(message(cfg, f"n{g}", "new", room, text,
                                              T0 + 600 + 300 * g,
                                              conversation=f"club-{g}")).action)
    assert actions == ["deliver"] * 6


def test_a_newcomer_posting_again_and_again_in_one_group_is_delivered() -> None:
    """A new member of a group whose talkers wrote to it posts six times in the hour:
    the talkers carry the same room each time."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0 - 3_600, account="new",
                         created=T0 - 3_600))
    room = [f"m{i}" for i in range(20)]
    for i, member in enumerate(room[:8]):
        engine.process(message(cfg, f"x{i}", member, [p for p in room if p != member]
                               + ["new"], f"welcome {i}", T0 + i, conversation="club"))
    actions = [engine.process(message(cfg, f"n{k}", "new", room, text, T0 + 600 + 300 * k,
                                      conversation="club")).action
               for k, text in enumerate(NEWCOMER_POSTS)]
    assert actions == ["deliver"] * 6
