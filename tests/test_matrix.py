"""Matrix: the synapse-http-antispam endpoints, alone and in front of a real Synapse."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import msgspec
import pytest

import synapse_harness
from conftest import TOKEN, Server, free_port, start_server, stopped_after
from spimguard import accounts, load_config, open_engine, rooms
from spimguard.server.matrix import MatrixBridge, client_product, readable
from spimguard.server.metrics import Metrics
from spimguard.state.ops import FOREVER, Contains, Distinct, Members

MX_TOKEN = "matrix-module-secret"
DAY = 86_400.0
# No spammy words: only the takeover evidence (new app, hosting network, burst to all of
# the account's contacts) can stop it.
PITCH = "hey {name}, you have to see this :) http://ring-tones-club.biz/p/{n}"


# -- the endpoints alone -------------------------------------------------------------------
MATRIX_ENV = {"SPIMGUARD__MATRIX__ENABLED": "true", "SPIMGUARD__MATRIX__TOKEN": MX_TOKEN,
              "SPIMGUARD_OFFICIAL_CLIENTS": "Element"}


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server = start_server(tmp_path_factory.mktemp("bridge") / "data", extra_env=MATRIX_ENV)
    try:
        with server.client(token=MX_TOKEN) as client:
            yield client
    finally:
        server.stop()


def test_readable_text_keeps_hidden_link_targets_and_drops_quoted_replies() -> None:
    content = {"body": "> <@x:s> old spam\n\nclick here",
               "formatted_body": '<mx-reply><a href="http://quoted.example">old</a></mx-reply>'
                                 'click <a href="http://tonez-club.biz/r1">here</a>'}
    text = readable(content, 1000)
    assert "http://tonez-club.biz/r1" in text and "quoted.example" not in text
    assert readable({"body": "é" * 100}, 11) == "é" * 5  # bounded, never a broken character
    assert client_product("Element/1.11.85 (Linux)") == "Element"
    assert client_product("") == ""


def test_ping_unknown_callbacks_and_tokens(bridge: httpx.Client) -> None:
    assert bridge.post("/matrix/antispam/ping", json={"id": "abc"}).json() == {
        "id": "abc", "status": "ok"}
    answer = bridge.post("/matrix/antispam/check_username_for_spam",
                         json={"user_profile": {}, "requester_id": "@a:s"})
    assert answer.status_code == 200 and answer.json() == {}
    wrong = bridge.post("/matrix/antispam/ping", json={"id": "x"},
                        headers={"Authorization": f"Bearer {TOKEN}"})  # the API token is not it
    assert wrong.status_code == 401 and wrong.json()["errcode"] == "M_UNAUTHORIZED"
    api = bridge.post("/v1/check", json={})  # and the module's token opens no API
    assert api.status_code == 401
    bad = bridge.post("/matrix/antispam/user_may_invite", json={"inviter": "@a:s"})
    assert bad.status_code == 400 and bad.json()["errcode"] == "M_BAD_JSON"
    bad = bridge.post("/matrix/antispam/check_event_for_spam", content=b"{not json")
    assert bad.status_code == 400


def test_spam_event_is_refused_with_the_senders_notice(bridge: httpx.Client) -> None:
    room = "!room:s"
    bridge.post("/matrix/antispam/user_may_join_room",
                json={"user": "@friend:s", "room": room, "is_invited": True})
    event = {"event_id": "$1", "sender": "@spammer:s", "room_id": room,
             "type": "m.room.message", "origin_server_ts": int(time.time() * 1000),
             "content": {"msgtype": "m.text", "body": "WINNER!! You have won a 1000 pound "
                         "cash prize. Claim now, call 09061701461, text CLAIM to 80086"}}
    answer = bridge.post("/matrix/antispam/check_event_for_spam", json={"event": event})
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["errcode"] == "M_FORBIDDEN" and "spam" in body["error"]
    ordinary = {**event, "event_id": "$2", "content": {"msgtype": "m.text", "body": "lunch?"}}
    assert bridge.post("/matrix/antispam/check_event_for_spam",
                       json={"event": ordinary}).status_code == 200
    state = {**event, "event_id": "$3", "type": "m.room.name", "state_key": "",
             "content": {"name": "WIN A PRIZE"}}
    assert bridge.post("/matrix/antispam/check_event_for_spam",
                       json={"event": state}).status_code == 200


# -- issue 13: the attacker's seat -----------------------------------------------------------
SPAM = ("WINNER!! You have won a 1000 pound cash prize. Claim now, call 09061701461, "
        "text CLAIM to 80086")


def spam_event(event_id: str, **content: object) -> dict[str, object]:
    return {"event_id": event_id, "sender": "@spammer2:s", "room_id": "!r2:s",
            "type": "m.room.message", "origin_server_ts": int(time.time() * 1000),
            "content": {"msgtype": "m.text", "body": SPAM, **content}}


@pytest.mark.parametrize("html", [
    f"<p>{SPAM}</p><![ x",  # made HTMLParser raise; the catch-all answered 200 (fail open)
    f"<b>{SPAM}</b>" + "<!--" * 60_000,  # was ~26 s
    f"{SPAM}<a href='x" + "<a " * 20_000,  # was ~30 s
], ids=["cdata-fragment", "60000-comment-openers", "20000-tag-openers"])
def test_html_that_breaks_a_parser_does_not_switch_the_filter_off(
        bridge: httpx.Client, html: str) -> None:
    started = time.monotonic()
    answer = bridge.post("/matrix/antispam/check_event_for_spam",
                         json={"event": spam_event(f"$h{len(html)}", body="see below",
                                                   format="org.matrix.custom.html",
                                                   formatted_body=html)})
    assert answer.status_code == 403, answer.text
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("stamp", [9007199254740991, 10**400, -1, "soon"],
                         ids=["2**53-1", "10**400", "negative", "string"])
def test_a_remote_servers_clock_is_not_ours(bridge: httpx.Client, stamp: object) -> None:
    event = {**spam_event(f"$t{str(stamp)[:20]}"), "origin_server_ts": stamp}
    answer = bridge.post("/matrix/antispam/check_event_for_spam",
                         content=msgspec.json.encode({"event": event}))
    assert answer.status_code == 403, answer.text  # judged, at our receive time
    recent = bridge.get("/v1/accounts/@spammer2:s",
                        headers={"Authorization": f"Bearer {TOKEN}"}).json()["recent"]
    assert all(abs(e["ts"] - time.time()) < 300 for e in recent)


def test_oversize_ids_are_refused(bridge: httpx.Client) -> None:
    for event in ({**spam_event("$long"), "sender": "@" + "x" * 100_000 + ":s"},
                  {**spam_event("$longroom"), "room_id": "!" + "r" * 300 + ":s"}):
        answer = bridge.post("/matrix/antispam/check_event_for_spam", json={"event": event})
        assert answer.status_code == 400 and answer.json()["errcode"] == "M_BAD_JSON"
    joined = bridge.post("/matrix/antispam/user_may_join_room",
                         json={"user": "@" + "y" * 300 + ":s", "room": "!r:s"})
    assert joined.status_code == 400


def test_deeply_nested_callback_is_a_400(bridge: httpx.Client) -> None:
    answer = bridge.post("/matrix/antispam/check_event_for_spam",
                         content=b'{"event":' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert answer.status_code == 400


def members(bridge: MatrixBridge, room: str) -> set[str]:
    return set(bridge.engine.read_state([Members(f"mx:room:{room}")])[0])


def test_membership_is_learnt_from_joins_only_and_forgotten_on_leave() -> None:
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN})
    bridge = MatrixBridge(open_engine(settings), settings.matrix, Metrics())
    dm = "!dm:s"
    bridge.dispatch("user_may_invite", {"inviter": "@alice:s", "invitee": "@bob:s",
                                        "room_id": dm})
    for user, invited in (("@alice:s", False), ("@bob:s", True)):  # the join callback
        bridge.dispatch("user_may_join_room", {"user": user, "room": dm, "is_invited": invited})
    assert members(bridge, dm) == {"@alice:s", "@bob:s"}
    # A remote account's message, or its member event about someone else, makes no member;
    # its own (not yet authorised) join makes a member but nobody's contact.
    bridge.event({"event": {**spam_event("$x"), "sender": "@mallory:evil", "room_id": dm}})
    bridge.event({"event": {"type": "m.room.member", "sender": "@mallory:evil", "room_id": dm,
                            "state_key": "@eve:evil", "content": {"membership": "join"}}})
    assert members(bridge, dm) == {"@alice:s", "@bob:s"}
    bridge.event({"event": {"type": "m.room.member", "sender": "@mallory:evil", "room_id": dm,
                            "state_key": "@mallory:evil", "content": {"membership": "join"}}})
    assert members(bridge, dm) == {"@alice:s", "@bob:s", "@mallory:evil"}
    alice = accounts.contacts("@alice:s")  # hashed: asked, not listed
    assert bridge.engine.read_state([Contains(alice, ("@bob:s", "@mallory:evil")),
                                     Distinct(alice, FOREVER)]) == [(True, False), 1]
    # A local user (one who signs in here) sending into the room is in it: Synapse checks
    # local events after its auth rules (this is how a room's creator is learnt).
    bridge.login({"user_id": "@carol:s", "device_id": "PHONE",
                  "request_info": [["Element/1.11.85", "127.0.0.1"]]})
    bridge.event({"event": {**spam_event("$c"), "sender": "@carol:s", "room_id": dm,
                            "content": {"msgtype": "m.text", "body": "hello both"}}})
    assert "@carol:s" in members(bridge, dm)
    # One's own leave removes; a remote server's "ban" of our user is not trusted.
    for sender, target, membership in (("@mallory:evil", "@alice:s", "ban"),
                                       ("@bob:s", "@bob:s", "leave"),
                                       ("@mallory:evil", "@mallory:evil", "leave")):
        bridge.event({"event": {"type": "m.room.member", "sender": sender, "room_id": dm,
                                "state_key": target, "content": {"membership": membership}}})
    assert members(bridge, dm) == {"@alice:s", "@carol:s"}




def test_joins_and_leaves_are_stated_to_the_takeover_burst() -> None:
    """The join callback is the homeserver's word (``rooms``): a member joins now, so it
    counts one by one for a week, then its room is settled; a leave takes it out."""
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN})
    bridge = MatrixBridge(open_engine(settings), settings.matrix, Metrics())
    fam, users = "!fam:s", ("@alice:s", "@bob:s")
    for user in users:
        bridge.dispatch("user_may_join_room", {"user": user, "room": fam, "is_invited": False})
    now = bridge.engine.now()

    def stated(at: float) -> list[tuple[bool, ...]]:
        return [tuple(a) for a in bridge.engine.read_state(
            [Contains(rooms.members(fam), users), Contains(rooms.joined(fam), users)], at)]

    assert stated(now) == [(True, True), (True, True)]
    assert stated(now + rooms.SETTLED_AFTER) == [(True, True), (False, False)]
    bridge.event({"event": {"type": "m.room.member", "sender": "@bob:s", "room_id": fam,
                            "state_key": "@bob:s", "content": {"membership": "leave"}}})
    assert stated(now) == [(True, False), (True, False)]


def _contacts_of(bridge: MatrixBridge, user: str, others: tuple[str, ...]) -> tuple[bool, ...]:
    return tuple(bridge.engine.read_state([Contains(accounts.contacts(user), others)])[0])


def test_contacts_come_from_accepted_invitations_only() -> None:
    """Sharing a room proves no acquaintance: otherwise one account could become the
    contact of everyone in each small public room it walks through, or invite a victim
    once into a room of its own and then puppets in and out until the list is full."""
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN})
    bridge = MatrixBridge(open_engine(settings), settings.matrix, Metrics())

    def invite(inviter: str, invitee: str, room: str) -> None:
        answer = bridge.dispatch("user_may_invite", {"inviter": inviter, "invitee": invitee,
                                                     "room_id": room})
        assert answer.status_code == 200

    def join(user: str, room: str, **extra: object) -> None:
        bridge.dispatch("user_may_join_room", {"user": user, "room": room, **extra})

    lobby = "!lobby:s"
    join("@ann:s", lobby)
    join("@ben:s", lobby, is_invited=False)
    join("@bot:s", lobby, is_invited=False)  # walked in: a member, nobody's contact
    assert members(bridge, lobby) == {"@ann:s", "@ben:s", "@bot:s"}
    assert _contacts_of(bridge, "@ann:s", ("@ben:s", "@bot:s")) == (False, False)
    # The victim accepts the bot's invitation: the two are contacts; the puppets the
    # bot then invites are the bot's contacts, not the victim's.
    den = "!den:s"
    join("@bot:s", den)
    invite("@bot:s", "@ann:s", den)
    join("@ann:s", den, is_invited=True)
    assert _contacts_of(bridge, "@ann:s", ("@bot:s",)) == (True,)
    for n in range(3):
        invite("@bot:s", f"@puppet{n}:s", den)
        join(f"@puppet{n}:s", den, is_invited=True)
    assert _contacts_of(bridge, "@ann:s", tuple(f"@puppet{n}:s" for n in range(3))) == (
        False,) * 3
    assert _contacts_of(bridge, "@puppet0:s", ("@bot:s", "@ann:s")) == (True, False)
    # An invitation is spent by its join; a join that claims one never made, or a module
    # that does not say (or says it otherwise than JSON true), makes no contacts.
    bridge.dispatch("user_may_join_room", {"user": "@cat:s", "room": den, "is_invited": True})
    invite("@ben:s", "@dan:s", "!nook:s")
    join("@dan:s", "!nook:s", is_invited="true")
    assert _contacts_of(bridge, "@dan:s", ("@ben:s",)) == (False,)
    assert _contacts_of(bridge, "@cat:s", ("@bot:s", "@ann:s")) == (False, False)
    # Synapse asks before its auth rules: an invitation from outside a room with known
    # members is not remembered, and two inviters of one invitee credit neither, so a
    # forger (a non-member, a remote server) can deny a contact, never take one.
    join("@gil:s", "!club:s")
    invite("@spam:s", "@hal:s", "!club:s")
    invite("@gil:s", "@hal:s", "!club:s")
    join("@hal:s", "!club:s", is_invited=True)
    assert _contacts_of(bridge, "@hal:s", ("@gil:s", "@spam:s")) == (True, False)
    invite("@spam:evil", "@ivy:s", "!fresh:s")  # no member known: remembered ...
    invite("@jon:s", "@ivy:s", "!fresh:s")  # ... and a second inviter voids it
    join("@ivy:s", "!fresh:s", is_invited=True)
    assert _contacts_of(bridge, "@ivy:s", ("@jon:s", "@spam:evil")) == (False, False)
    # A room of thousands is a crowd: an invitation into it is no friendship.
    settings = load_config(environ={}, storage={"backend": "memory"},
                           matrix={"enabled": True, "token": MX_TOKEN, "contacts_room_size": 2})
    bridge = MatrixBridge(open_engine(settings), settings.matrix, Metrics())
    for user in ("@x:s", "@y:s"):
        join(user, "!hall:s")
    invite("@x:s", "@z:s", "!hall:s")
    join("@z:s", "!hall:s", is_invited=True)
    assert _contacts_of(bridge, "@z:s", ("@x:s",)) == (False,)

# -- a real homeserver ---------------------------------------------------------------------
def seed_history(server: Server, people: dict[str, list[str]]) -> None:
    """A month of ordinary use before spimguard saw the homeserver's callbacks: each
    account on Element from the loopback network, writing every day to the first of
    its contacts (its closest friend); the rest are dormant ties."""
    now = time.time()
    events: list[dict[str, object]] = []
    for user, contacts in people.items():
        events.append({"type": "contacts", "id": f"h-{user}-c", "ts": now - 31 * DAY,
                       "account": user, "contacts": contacts})
        for day in range(30, 0, -1):
            ts = now - day * DAY
            events.append({"type": "login", "id": f"h-{user}-l{day}", "ts": ts, "account": user,
                           "session": "phone", "ip": "127.0.0.1", "client": {"id": "Element"}})
            for i, friend in enumerate(contacts[:1]):
                events.append({"type": "message", "id": f"h-{user}-{day}-{i}", "ts": ts + i,
                               "sender": user, "recipients": [friend], "session": "phone",
                               "client": {"id": "Element", "ip": "127.0.0.1"},
                               "text": f"see you at {i + 5} tonight"})
    events.sort(key=lambda e: e["ts"])  # type: ignore[arg-type, return-value]
    with server.client() as client:
        answer = client.post("/v1/events", json={"events": events})
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[synapse_harness.Synapse, Server]]:
    folder = tmp_path_factory.mktemp("matrix")
    module = {"check_event_for_spam": True, "user_may_join_room": True,
              "check_login_for_spam": True}
    with stopped_after(start_server(folder / "spimguard", extra_env=MATRIX_ENV)) as guard:
        config = synapse_harness.antispam_config(guard.url, MX_TOKEN, module)
        with stopped_after(synapse_harness.start(folder / "synapse", free_port(), config)) as hs:
            yield hs, guard


def test_friends_chat_and_a_hijacked_account_is_stopped(homeserver: tuple[
        synapse_harness.Synapse, Server]) -> None:
    synapse, guard = homeserver
    friends = [synapse.register(f"friend{i}") for i in range(8)]
    carol, alice, bob = (synapse.register(u) for u in ("carol", "alice", "bob"))
    seed_history(guard, {carol: friends, alice: [bob], bob: [alice],
                         **{f: [f"@pal{i}:{synapse_harness.SERVER_NAME}", carol]
                            for i, f in enumerate(friends)}})

    # Friends chat: everything is delivered.
    phone_a, phone_b = (synapse.login(u, "Element/1.11.85") for u in ("alice", "bob"))
    room = phone_a.create_room([bob], direct=True)
    assert phone_b.join(room).status_code == 200
    lines = ["hi bob, are we still on for tonight?", "yes! 8pm at the usual place?",
             "perfect, I'll bring the tickets", "see you there 🙂",
             "did you see the match? https://www.bbc.co.uk/sport/football",
             "haha yes, what a goal"]
    for n, line in enumerate(lines):
        sent = (phone_a if n % 2 == 0 else phone_b).send(room, line)
        assert sent.status_code == 200, sent.text

    # Carol's own app, her rooms with eight friends.
    carol_phone = synapse.login("carol", "Element/1.11.85")
    rooms = []
    for i, friend in enumerate(friends):
        rooms.append(carol_phone.create_room([friend], direct=True))
        assert synapse.login(f"friend{i}", "Element/1.11.85").join(rooms[-1]).status_code == 200
    assert carol_phone.send(rooms[0], "morning! coffee later?").status_code == 200

    # The ringtone seller signs in with her harvested password from its own app and a
    # hosting network, and sends every room the same promo.
    seller = synapse.login("carol", "MobileFunster/2.1", ip="203.0.113.7")
    answers = [seller.send(r, PITCH.format(name=f.split(":")[0][1:], n=n))
               for n, (r, f) in enumerate(zip(rooms, friends, strict=True))]
    delivered = [a.status_code == 200 for a in answers]
    first_refused = delivered.index(False)
    assert first_refused <= 4, [a.text for a in answers]
    assert not any(delivered[first_refused:])
    refusal = answers[first_refused].json()
    assert refusal["errcode"] == "M_FORBIDDEN"
    assert "MobileFunster" in refusal["error"] or "spam" in refusal["error"]
    with guard.client() as client:
        account = client.get(f"/v1/accounts/{carol}").json()
    assert account["risk"] == "high" and account["incidents"]


def test_a_hijack_in_encrypted_rooms_is_refused_by_its_fourth_send(homeserver: tuple[
        synapse_harness.Synapse, Server]) -> None:
    """Dave's rooms are end-to-end encrypted: spimguard never sees a word, only who sends
    what size of ciphertext to which room's members, from which app and network."""
    synapse, guard = homeserver
    friends = [synapse.register(f"dfriend{i}") for i in range(6)]
    dave, pal = synapse.register("dave"), synapse.register("dpal")
    seed_history(guard, {dave: [pal, *friends], pal: [dave],
                         **{f: [f"@dpal{i}:{synapse_harness.SERVER_NAME}", dave]
                            for i, f in enumerate(friends)}})
    phone = synapse.login("dave", "Element/1.11.85")
    rooms = []
    for i, friend in enumerate(friends):
        rooms.append(phone.create_room([friend], direct=True, encrypted=True))
        assert synapse.login(f"dfriend{i}", "Element/1.11.85").join(rooms[-1]).status_code == 200
    # The owner's own encrypted chat goes through (to the last friend: the first four,
    # whom the seller writes to first, are ties Dave had not been writing with).
    own = phone.send_encrypted(rooms[-1], "QmFzZTY0IG9mIGEgbWVnb2xtIG1lc3NhZ2U" * 4)
    assert own.status_code == 200, own.text

    seller = synapse.login("dave", "MobileFunster/2.1", ip="203.0.113.8")
    answers = [seller.send_encrypted(room, "U2VsbGVyIHBpdGNoIGNpcGhlcnRleHQ" * (6 + n % 2))
               for n, room in enumerate(rooms)]
    delivered = [a.status_code == 200 for a in answers]
    assert delivered[:3] == [True] * 3 and not any(delivered[3:]), [a.text for a in answers]
    refusal = answers[3].json()
    assert refusal["errcode"] == "M_FORBIDDEN"
    assert "looks like spam" not in refusal["error"]  # it cannot know what the words say
    with guard.client() as client:
        recent = client.get(f"/v1/accounts/{dave}").json()["recent"]
    assert any("ACCOUNT_HIJACK_BURST" in e["signals"] for e in recent)


def test_a_user_inviting_strangers_is_stopped_and_fail_modes_hold(homeserver: tuple[
        synapse_harness.Synapse, Server]) -> None:
    synapse, guard = homeserver
    strangers = [synapse.register(f"stranger{i}") for i in range(50)]
    synapse.register("inviter")
    inviter = synapse.login("inviter", "Element/1.11.85")
    room = inviter.create_room()
    answers = [inviter.invite(room, s) for s in strangers]
    accepted = [a.status_code == 200 for a in answers]
    assert accepted[0] and not all(accepted)
    first_refused = accepted.index(False)
    assert first_refused <= 12 and not any(accepted[first_refused:])
    assert answers[first_refused].json()["errcode"] == "M_FORBIDDEN"

    # spimguard down: messages fail open, invitations fail closed (the module's config).
    guard.stop()
    synapse.register("dora")
    dora = synapse.login("dora", "Element/1.11.85")
    own = dora.create_room()
    assert dora.send(own, "note to self: buy milk").status_code == 200
    refused = dora.invite(own, strangers[0])
    assert refused.status_code == 403 and refused.json()["errcode"] == "M_UNKNOWN"
    with pytest.raises(httpx.TransportError):
        httpx.get(guard.url + "/healthz", timeout=2)
