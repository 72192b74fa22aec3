"""What happens on the simulated platform: ordinary life, attacks and traps.

Every scenario runs over ordinary life (logins every morning, conversations
with close friends, now and then a link to a well-known site); the attacks and
the traps happen on the last day, so the days before are history the detectors
learn from. Each planned message carries its ``Truth``: what the scorecard
judges the verdict against.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .network import FIRST_NAMES, OFFICIAL_CLIENTS, Network, Person
from .texts import Texts

DAY = 86_400.0
HOUR = 3_600.0
# How long the network's group conversations (``form_rooms``) existed before the run: its
# rooms are older than its days, as its contact lists are.
ROOMS_AGE = 60 * DAY
# The last simulated day ends at midnight UTC on New Year's Day 2026, so festive
# greetings fall on the attack day as they would; in the past, so that a live server
# accepts a run over HTTP (it refuses events dated ahead of its clock).
END = 1_767_225_600.0

HOSTING_NETWORKS = ("203.0.113", "198.51.100", "192.0.2")
SELLER_CLIENT = "MobileFunster 2.1"
PROMO_DOMAINS = ("tonez-club.biz", "ring-mania.info", "get-tones.top")
PROMO = ("Hi {name}! I found the best ringtones ever, get yours free at http://{domain}/r{n}",
         "{name}, check this out: new ringtones for your phone http://{domain}/?id={n}",
         "hey {name} :) you have to try these ringtones http://www.{domain}/{n}",
         "{name}, is this you?? http://{domain}/p/{n}")
PHISH_DOMAINS = ("faceb00k-login.com", "secure-paypa1.com", "login-live-verify.com",
                 "rnicrosoft-account.com")
PHISH = ("{name} is this you in this video?? log in to see it http://{domain}/v/{n}",
         "hey {name}, your account will be locked, verify your password here: "
         "https://{domain}/verify?u={n}",
         "{name} someone posted photos of you, sign in to check http://{domain}/photos/{n}")
GREETINGS = ("Happy new year {name}!! 🎉 all the best for 2027",
             "Happy New Year!!! 🥂🎆 wishing you and your family a wonderful 2027",
             "{name} happy new year :) see you soon")
POPULAR_LINK = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
SHARE = ("haha you have to watch this {link}", "{link} 😂😂", "omg look {link}",
         "did you see this already? {link}")
# The seller who draws answers first (``openers``): what a long-lost friend writes, and
# what an old acquaintance answers.
OPENERS = ("hey {name}, long time! how are you?", "{name}!! it's been ages, how are things?",
           "hi {name} :) long time no see, what are you up to these days?")
ANSWERS = ("omg hi!! long time, how are you?", "heyy good to hear from you! all good here",
           "haha wow, it's been forever. I'm fine, you?")
NEW_NUMBER = ("Hi everyone, this is my new number: 07700 900{n:03d}. My old phone was stolen, "
              "please save this one! {name}")


@dataclass(frozen=True, slots=True)
class Truth:
    spim: bool
    # "life", "hijack", "bots", "phish", "benign-bulk", "adversarial", "viral", "hard-ham",
    # "groups" (group conversations' ham) or one of its attacks ("group-bots", ...)
    scenario: str
    trap: str = ""  # for ham: which trap (for groups: which kind of room or post)
    actor: str = ""  # the hijacked account or bot: containment is measured per actor
    campaign: str = ""  # spim of one seller's wave (its domain): counted in campaign order


@dataclass(slots=True)
class Planned:
    ts: float
    body: dict[str, object]  # the event, without id and ts
    truth: Truth | None = None  # messages only
    # An encrypted message's words: only the recipients' clients have them (and may put
    # them in a report); the event itself carries its size.
    plaintext: str = ""
    # A sign-in by the account's owner on its own device (not an intruder's, nor a bot's):
    # what the platform's device verification can approve (``verify``).
    owner: bool = False


@dataclass
class Plan:
    network: Network
    texts: Texts
    rng: random.Random
    days: int
    events: list[Planned] = field(default_factory=list)
    actors: dict[str, str] = field(default_factory=dict)  # attacked account or bot: scenario
    bots: set[str] = field(default_factory=set)  # actors that hold their own accounts
    _ips: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def start(self) -> float:
        return END - self.days * DAY

    @property
    def attack_day(self) -> float:
        return END - DAY

    def add(self, ts: float, body: dict[str, object], truth: Truth | None = None) -> None:
        self.events.append(Planned(ts, body, truth))

    def send(self, ts: float, sender: str, recipient: str | list[str], text: str,
             session: str, client: str, ip: str, truth: Truth, conversation: str = "") -> None:
        """A message to one recipient, or a post to a group ``conversation``'s other
        members (``recipient`` a list)."""
        body: dict[str, object] = {
            "type": "message", "sender": sender,
            "recipients": recipient if isinstance(recipient, list) else [recipient],
            "text": text, "session": session, "client": {"id": client, "ip": ip}}
        if conversation:
            body["conversation"] = conversation
        self.add(ts, body, truth)

    def login(self, ts: float, account: str, session: str, client: str, ip: str,
              success: bool = True, owner: bool = False) -> None:
        self.events.append(Planned(ts, {"type": "login", "account": account, "session": session,
                                        "ip": ip, "client": {"id": client}, "success": success},
                                   owner=owner))

    def session_ip(self, person: Person, day: int) -> str:
        """Home most days, the mobile network on some: both the person's own."""
        key = (person.name, day)
        if key not in self._ips:
            self._ips[key] = person.home_ip if self.rng.random() < 0.8 else person.mobile_ip
        return self._ips[key]

    def own(self, ts: float, person: Person, recipient: str | list[str], text: str, day: int,
            truth: Truth, conversation: str = "") -> None:
        """A message (or a group post) from the person's own session of that day."""
        self.send(ts, person.name, recipient, text, _own_session(person, day), person.client,
                  self.session_ip(person, day), truth, conversation)

    def room(self, ts: float, account: str, conversation: str, members: list[str],
             membership: str = "join", since: float | None = None) -> None:
        """The IM server's word that ``members`` joined (or left) ``conversation`` by
        ``account``'s act (``events.Room``)."""
        body: dict[str, object] = {"type": "room", "account": account,
                                   "conversation": conversation, "members": list(members),
                                   "membership": membership}
        if since is not None:
            body["since"] = since
        self.add(ts, body)

    def victims(self, count: int, scenario: str) -> list[str]:
        """Accounts not yet taken by another scenario (nor the traps' hub)."""
        free = [n for n in self.network.people if n not in self.actors and n != HUB]
        chosen = self.rng.sample(free, min(count, len(free)))
        self.actors.update(dict.fromkeys(chosen, scenario))
        return chosen


HUB = "user-hub"  # the benign-bulk trap's user with 2,000 contacts


def _own_session(person: Person, day: int) -> str:
    return f"{person.name}-d{day}"


def life(plan: Plan) -> None:
    """Contact lists, morning logins and conversations, every day for everyone."""
    rng = plan.rng
    life_truth = Truth(spim=False, scenario="life")
    for person in plan.network.people.values():
        plan.add(plan.start - HOUR, {"type": "contacts", "account": person.name,
                                     "contacts": sorted(person.contacts)})
    for day in range(plan.days):
        midnight = plan.start + day * DAY
        for person in plan.network.people.values():
            ip = plan.session_ip(person, day)
            online = midnight + person.wake * HOUR + rng.uniform(0, 1800)
            plan.login(online, person.name, _own_session(person, day), person.client, ip,
                       owner=True)
            for _ in range(_poisson(rng, person.chattiness)):
                pool = person.close if rng.random() < 0.8 else sorted(person.contacts)
                if not pool:
                    continue
                friend = plan.network.people[rng.choice(pool)]
                # Evenings are busier than mornings.
                at = online + min(rng.triangular(0, 16, 12), 23.5 - person.wake) * HOUR
                speakers = (person, friend)
                for turn in range(rng.randint(2, 9)):
                    a, b = speakers[turn % 2], speakers[1 - turn % 2]
                    at += rng.uniform(8, 180)
                    text = plan.texts.ham(rng)
                    if rng.random() < 0.04:
                        text = f"{text} {plan.texts.benign_link(rng)}"
                    plan.own(at, a, b.name, text, day, life_truth)


def hijack(plan: Plan) -> None:
    """The ringtone seller: harvested passwords, hosting networks, bursts to all contacts."""
    _burst(plan, "hijack", max(3, len(plan.network.people) // 100), PROMO, PROMO_DOMAINS)


def phish(plan: Plan) -> None:
    """Hijacked accounts sending look-alike login links, to harvest more passwords."""
    _burst(plan, "phish", max(2, len(plan.network.people) // 250), PHISH, PHISH_DOMAINS)


def _burst(plan: Plan, scenario: str, count: int, templates: tuple[str, ...],
           domains: tuple[str, ...]) -> None:
    rng = plan.rng
    for n, name in enumerate(plan.victims(count, scenario)):
        victim = plan.network.people[name]
        domain = domains[n % len(domains)]
        truth = Truth(spim=True, scenario=scenario, actor=name, campaign=domain)
        start = plan.attack_day + rng.uniform(11, 17) * HOUR
        # Half the sessions claim to be the official app; all come from hosting networks.
        client = rng.choice(OFFICIAL_CLIENTS) if n % 2 else SELLER_CLIENT
        ip = f"{HOSTING_NETWORKS[n % len(HOSTING_NETWORKS)]}.{rng.randrange(2, 250)}"
        session = f"{name}-{scenario}"
        if n % 3 == 0:  # a mistyped harvested password first
            plan.login(start - 20, name, session, client, ip, success=False)
        plan.login(start, name, session, client, ip)
        plan.add(start + 2, {"type": "contacts_read", "account": name, "session": session,
                             "count": len(victim.contacts)})
        at = start + 5
        for friend in sorted(victim.contacts):
            at += rng.uniform(2, 6)
            text = rng.choice(templates).format(name=plan.network.people[friend].display,
                                                domain=domain, n=rng.randrange(10**6))
            plan.send(at, name, friend, text, session, client, ip, truth)


def _half_a_percent(plan: Plan) -> int:
    """How many victims each of ``patient``'s two sellers takes: 0.5 % of accounts, two
    at least, so a small network still has a case of each."""
    return max(2, len(plan.network.people) // 200)


def patient(plan: Plan) -> None:
    """The seller who read the takeover detector (red team, session 25): no burst anywhere.
    The day before, one bland line to each of the victim's closest friends, each from a
    fresh session claiming the official app from the seller's own servers (to make that
    network and app the owner's); on the attack day, a fresh session for every pitch, one
    per burst window (11-12 minutes apart), to the contacts the victim does not write to.
    Every message of the intruder is spim: the warm-up lines, bland, are delivered; what
    to watch is containment (how many pitches go out before the account is stopped).
    Beside it, on other victims, the seller who draws answers first (``openers``)."""
    rng = plan.rng
    for n, name in enumerate(plan.victims(_half_a_percent(plan), "patient")):
        victim = plan.network.people[name]
        domain = PROMO_DOMAINS[n % len(PROMO_DOMAINS)]
        truth = Truth(spim=True, scenario="patient", actor=name, campaign=domain)
        client = OFFICIAL_CLIENTS[n % len(OFFICIAL_CLIENTS)]
        ip = f"{HOSTING_NETWORKS[n % len(HOSTING_NETWORKS)]}.{rng.randrange(2, 250)}"
        at = plan.attack_day - DAY + rng.uniform(12, 18) * HOUR
        for k, friend in enumerate(victim.close[:4]):
            session = f"{name}-warm{k}"
            plan.login(at, name, session, client, ip)
            plan.send(at + 5, name, friend, plan.texts.ham(rng), session, client, ip, truth)
            at += rng.uniform(15, 40) * 60
        at = plan.attack_day + rng.uniform(9, 12) * HOUR
        close = set(victim.close)
        for k, friend in enumerate([c for c in sorted(victim.contacts) if c not in close][:40]):
            session = f"{name}-pitch{k}"
            plan.login(at, name, session, client, ip)
            text = rng.choice(PROMO).format(name=plan.network.people[friend].display,
                                            domain=domain, n=rng.randrange(10**6))
            plan.send(at + 3, name, friend, text, session, client, ip, truth)
            at += rng.uniform(11, 12) * 60
    openers(plan)


OPENERS_SENT = 30  # openers per victim of ``openers``: one screenful of the contact list


def openers(plan: Plan) -> None:
    """The seller who draws answers first (red team, session 26; part of ``patient``):
    from one session on its own servers claiming the official app, a friendly opener to
    each of the contacts the victim does not write to, about two minutes apart; about
    half answer within a minute (ordinary life: their own lines, from their own phones)
    and each answerer gets the pitch as the answer's reply, so the session has replies
    to show."""
    rng, day = plan.rng, plan.days - 1
    life_truth = Truth(spim=False, scenario="life")
    for n, name in enumerate(plan.victims(_half_a_percent(plan), "openers")):
        victim = plan.network.people[name]
        domain = PROMO_DOMAINS[(n + 1) % len(PROMO_DOMAINS)]
        truth = Truth(spim=True, scenario="openers", actor=name, campaign=domain)
        client = OFFICIAL_CLIENTS[n % len(OFFICIAL_CLIENTS)]
        ip = f"{HOSTING_NETWORKS[(n + 1) % len(HOSTING_NETWORKS)]}.{rng.randrange(2, 250)}"
        session = f"{name}-openers"
        at = plan.attack_day + rng.uniform(9, 12) * HOUR
        plan.login(at, name, session, client, ip)
        close = set(victim.close)
        for friend in [c for c in sorted(victim.contacts) if c not in close][:OPENERS_SENT]:
            person = plan.network.people[friend]
            at += rng.uniform(100, 140)
            plan.send(at, name, friend, rng.choice(OPENERS).format(name=person.display),
                      session, client, ip, truth)
            if rng.random() < 0.5:
                plan.own(at + rng.uniform(20, 50), person, name, rng.choice(ANSWERS), day,
                         life_truth)
                text = rng.choice(PROMO).format(name=person.display, domain=domain,
                                                n=rng.randrange(10**6))
                plan.send(at + 60, name, friend, text, session, client, ip, truth)


def bots(plan: Plan) -> None:
    """New accounts, never seen before, messaging strangers from a hosting network."""
    rng = plan.rng
    people = plan.network.names
    for n in range(max(2, len(people) // 1000)):
        bot = f"bot{n}"
        truth, ip, at = _bot(plan, bot, "bots", n, (8, 20))
        for _ in range(80):
            at += rng.uniform(5, 30)
            plan.send(at, bot, rng.choice(people), plan.texts.spam(rng), bot, "bulkbot", ip,
                      truth)


def _bot(plan: Plan, bot: str, scenario: str, n: int, hours: tuple[float, float]
         ) -> tuple[Truth, str, float]:
    """A bot account signing in from a hosting network on the attack day: its truth,
    address and sign-in time."""
    plan.actors[bot] = scenario
    plan.bots.add(bot)
    ip = f"{HOSTING_NETWORKS[n % len(HOSTING_NETWORKS)]}.{plan.rng.randrange(2, 250)}"
    at = plan.attack_day + plan.rng.uniform(*hours) * HOUR
    plan.login(at, bot, bot, "bulkbot", ip)
    return Truth(spim=True, scenario=scenario, actor=bot), ip, at


def add_hub(network: Network, rng: random.Random) -> None:
    """The benign-bulk trap's popular user: 2,000 contacts (or everyone, if fewer)."""
    hub = Person(name=HUB, display="Sam", home_ip="100.127.0.2", mobile_ip="10.8.0.2",
                 client=OFFICIAL_CLIENTS[0], wake=8.0, chattiness=3.0)
    network.add(hub)
    others = [n for n in network.people if n != HUB]
    for friend in rng.sample(others, min(2000, len(others))):
        network.befriend(HUB, friend)
    hub.close = rng.sample(sorted(hub.contacts), 6)


def benign_bulk(plan: Plan) -> None:
    """Traps: bulk that is not spim, and must not be held."""
    rng = plan.rng
    people = plan.network.people
    day = plan.days - 1
    ordinary = [p for n, p in people.items() if n not in plan.actors and n != HUB]
    for person in rng.sample(ordinary, max(1, len(ordinary) // 50)):
        truth = Truth(spim=False, scenario="benign-bulk", trap="greetings")
        at = END - rng.uniform(0, 600)  # the last minutes of the year
        for friend in sorted(person.contacts):
            at += rng.uniform(1, 4)
            greeting = rng.choice(GREETINGS).format(name=people[friend].display)
            plan.own(at, person, friend, greeting, day, truth)
    shared = Truth(spim=False, scenario="benign-bulk", trap="popular-link")
    for person in rng.sample(ordinary, max(2, len(ordinary) // 10)):
        at = plan.attack_day + rng.uniform(14, 20) * HOUR
        for friend in person.close[:rng.randint(1, 3)]:
            at += rng.uniform(5, 60)
            plan.own(at, person, friend, rng.choice(SHARE).format(link=POPULAR_LINK), day, shared)
    if HUB in people:
        hub = people[HUB]
        truth = Truth(spim=False, scenario="benign-bulk", trap="new-number")
        at = plan.attack_day + hub.wake * HOUR + 2400  # after the morning login
        for friend in sorted(hub.contacts):
            at += rng.uniform(0.5, 1.5)
            plan.own(at, hub, friend, NEW_NUMBER.format(n=7, name=hub.display), day, truth)


POISONED_DOMAIN = "corner-bakery-news.net"  # a little-known site friends share
POISONED_PHRASE = "are we still meeting at the cafe near the station tomorrow after work"
CLUB_NOTICE = "{name}, the club's March meeting moves to the small hall, see you all there"


def adversarial(plan: Plan) -> None:
    """Attacks on what spimguard learns (issue 14), each with what it must not change.

    Reports from accounts that never received the message and the sender's own
    reports try to get a little-known site and a chat phrase held for everyone
    (``poisoned-domain``, ``poisoned-phrase`` traps) and a club's notice
    confirmed as a campaign (``club-notice``); the seller's own recipients flood
    its spim with ham reports; one hijacked account is first signed into quietly
    two days before its burst, another signs in again after its suspension."""
    rng, people = plan.rng, plan.network.people
    day, hour = plan.days - 1, plan.attack_day
    ordinary = [p for n, p in people.items() if n not in plan.actors and n != HUB]
    throwaways = [f"adv-throwaway{k}" for k in range(5)]

    def poison(tag: str, text: str, at: float) -> None:
        """The bait: the attacker's messages, then reports by itself and by strangers."""
        for n in range(3):
            ref = f"{tag}{n}"
            plan.add(at + n, {"type": "message", "sender": "adv-poisoner",
                              "recipients": [rng.choice(ordinary).name], "text": text,
                              "ref": ref})
            for k, reporter in enumerate(["adv-poisoner"] * 3 + throwaways):
                plan.add(at + 60 + n * 10 + k, {"type": "report", "reporter": reporter,
                                                "message_ref": ref, "label": "spam"})

    poison("domain", f"fresh bread today http://{POISONED_DOMAIN}/today", hour + 8 * HOUR)
    poison("phrase", POISONED_PHRASE, hour + 8 * HOUR + 600)
    sharers = rng.sample(ordinary, max(2, len(ordinary) // 20))
    for person in sharers:  # later that day, friends share the site and say the phrase
        at = hour + rng.uniform(12, 20) * HOUR
        for friend in person.close[:2]:
            plan.own(at, person, friend, f"new post http://{POISONED_DOMAIN}/p/{rng.randrange(99)}",
                     day, Truth(spim=False, scenario="adversarial", trap="poisoned-domain"))
            plan.own(at + 30, person, friend, POISONED_PHRASE, day,
                     Truth(spim=False, scenario="adversarial", trap="poisoned-phrase"))
    club = max(ordinary, key=lambda p: (len(p.contacts), p.name))
    at = hour + 10 * HOUR
    for n, friend in enumerate(sorted(club.contacts)):
        at += rng.uniform(20, 90)
        ref = f"club{n}"
        plan.add(at, {"type": "message", "sender": club.name, "recipients": [friend],
                      "text": CLUB_NOTICE.format(name=people[friend].display),
                      "session": _own_session(club, day),
                      "client": {"id": club.client, "ip": plan.session_ip(club, day)},
                      "ref": ref}, Truth(spim=False, scenario="adversarial", trap="club-notice"))
        if n < len(throwaways):
            plan.add(at + 30, {"type": "report", "reporter": throwaways[n],
                               "message_ref": ref, "label": "spam"})
    _ham_flood(plan, ordinary)
    _quiet_then_again(plan)


def _ham_flood(plan: Plan, ordinary: list[Person]) -> None:
    """Sellers' spim to honest users and to their own accounts, which report it as ham."""
    rng = plan.rng
    for n in range(2):
        seller = f"adv-seller{n}"
        truth, ip, at = _bot(plan, seller, "adversarial", n, (9, 15))
        for k in range(40):
            at += rng.uniform(5, 30)
            sock = k % 2 == 1
            to = f"adv-sock{n}-{k}" if sock else rng.choice(ordinary).name
            text = rng.choice(PROMO).format(name="", domain=PROMO_DOMAINS[2], n=k)
            plan.add(at, {"type": "message", "sender": seller, "recipients": [to],
                          "text": text, "session": seller, "client": {"id": "bulkbot", "ip": ip},
                          "ref": f"{seller}-{k}"}, None if sock else truth)
            if sock:
                plan.add(at + 60, {"type": "report", "reporter": to, "label": "ham",
                                   "message_ref": f"{seller}-{k}"})


def _quiet_then_again(plan: Plan) -> None:
    """A quiet sign-in two days before a burst; a fresh sign-in after the suspension."""
    rng = plan.rng
    for n, name in enumerate(plan.victims(2, "adversarial")):
        victim = plan.network.people[name]
        truth = Truth(spim=True, scenario="adversarial", actor=name)
        start = plan.attack_day + rng.uniform(11, 17) * HOUR
        ip = f"{HOSTING_NETWORKS[n]}.{rng.randrange(2, 250)}"
        friends = sorted(victim.contacts)
        if n == 0:
            plan.login(max(plan.start, start - 2 * DAY), name, f"{name}-quiet", SELLER_CLIENT, ip)
        sessions = [(f"{name}-adv", ip, friends)] if n == 0 else [
            (f"{name}-adv", ip, friends[: len(friends) // 2]),
            (f"{name}-adv2", f"{ip.rsplit('.', 2)[0]}.{rng.randrange(256)}.9",
             friends[len(friends) // 2:])]
        at = start
        for session, address, targets in sessions:
            plan.login(at, name, session, SELLER_CLIENT, address)
            plan.add(at + 2, {"type": "contacts_read", "account": name, "session": session,
                              "count": len(victim.contacts)})
            at += 5
            for friend in targets:
                at += rng.uniform(2, 6)
                text = rng.choice(PROMO).format(name=plan.network.people[friend].display,
                                                domain=PROMO_DOMAINS[n], n=rng.randrange(10**6))
                plan.send(at, name, friend, text, session, SELLER_CLIENT, address, truth)
            at += 1200  # the re-login comes twenty minutes later


# A little-known site (on no popular list), new to the platform on the day it goes viral.
VIRAL_DOMAIN = "riverside-gazette.net"
VIRAL = ("have you seen this?? {link}", "{name} look, our street is in the news {link}",
         "omg {link}", "{link} can you believe it", "{name} did you read this already? {link}",
         "this is crazy {link}")


def viral(plan: Plan) -> None:
    """Trap: friends passing on one link to a little-known news site along the contact
    graph, each to two or three of the friends they talk to, from their own phones.

    Many senders of one fresh domain and near-identical words, as in a campaign; but
    each sender writes to a few people it talks with, where a campaign writes to many.
    Where a cascade dies out, someone else finds the story and starts another."""
    rng = plan.rng
    people = plan.network.people
    ordinary = sorted(n for n in people if n not in plan.actors and n != HUB)
    if not ordinary:
        return
    free = set(ordinary)
    truth = Truth(spim=False, scenario="viral", trap="viral-link")
    link = f"https://www.{VIRAL_DOMAIN}/2026/12/31/{rng.randrange(10**6)}-flood-on-main-street"
    budget = max(30, len(ordinary) // 5)  # people who pass it on
    queue = [(plan.attack_day + rng.uniform(11, 13) * HOUR, rng.choice(ordinary))]
    passed: set[str] = set()
    budget = min(budget, len(ordinary))
    while queue and len(passed) < budget:
        at, name = heapq.heappop(queue)
        if at > END - HOUR:
            break
        if not queue:  # the cascade died out here: someone else finds the story
            heapq.heappush(queue, (at + rng.uniform(60, 1800), rng.choice(ordinary)))
        if name in passed:
            continue
        passed.add(name)
        person = people[name]
        for friend in rng.sample(person.close, min(len(person.close), rng.randint(2, 3))):
            at += rng.uniform(20, 300)
            text = rng.choice(VIRAL).format(link=link, name=people[friend].display)
            plan.own(at, person, friend, text, plan.days - 1, truth)
            if friend in free and rng.random() < 0.7:
                heapq.heappush(queue, (at + rng.uniform(300, 3 * HOUR), friend))


def hard_ham(plan: Plan) -> None:
    """Trap: close friends' ordinary chat that looks commercial (prices, numbers, shouting,
    other languages), on the last day: the texts' ham that ``Texts.commercial`` picks."""
    rng = plan.rng
    people = plan.network.people
    truth = Truth(spim=False, scenario="hard-ham")
    day = plan.days - 1
    ordinary = [p for n, p in people.items() if n not in plan.actors and n != HUB and p.close]
    for person in rng.sample(ordinary, max(1, len(ordinary) // 3)):
        friend = people[rng.choice(person.close)]
        at = plan.attack_day + rng.uniform(max(person.wake, friend.wake) + 1, 22) * HOUR
        for turn in range(rng.randint(2, 6)):
            a, b = (person, friend) if turn % 2 == 0 else (friend, person)
            at += rng.uniform(8, 180)
            plan.own(at, a, b.name, plan.texts.commercial_ham(rng), day, truth)


# --- Group conversations -------------------------------------------------------------

GROUP_HELLO = ("hello all 👋", "hi everyone! {name} here, thanks for adding me :)",
               "hey all, just joined, nice to meet you", "hi! new here 🙂")
COMMUNITY_SITES = ("oldmill-events.org", "riverside-runners.club", "st-marys-school.org")
ANNOUNCEMENTS = (
    "Reminder: the flea market is this Saturday from 10, come by and bring friends! "
    "https://www.{site}/flea-market",
    "Hi all, I'm running the 10k for the children's hospital on Sunday, any support means "
    "a lot https://{site}/sponsor/{n}",
    "Our band plays at the Old Mill on Friday 8pm, would love to see you there "
    "https://{site}/gigs/{n}")
GROUP_PITCH = ("Hi all! I found the best ringtones ever, get yours free at http://{domain}/r{n}",
               "everyone check this out: new ringtones for your phone http://{domain}/?id={n}",
               "hey guys :) you have to try these ringtones http://www.{domain}/{n}",
               "Hello group! free ringtones for the first 100 members http://{domain}/g/{n}")


@dataclass(slots=True)
class Room:
    """A group conversation: who is in it (in joining order) and who talks in it."""

    conversation: str
    kind: str  # the ham's trap: friend-group, family-group, work-room or public-room
    members: list[str]
    talkers: list[str]

    def others(self, member: str) -> list[str]:
        return [m for m in self.members if m != member]


def _clique(people: dict[str, Person], seed: Person, size: int, rng: random.Random
            ) -> list[str]:
    """``seed`` and up to ``size - 1`` of its contacts who all list each other: a group of
    friends (or a family) forms among people who already know each other, close ones
    first."""
    members = [seed.name]
    rest = sorted(seed.contacts - set(seed.close))
    rng.shuffle(rest)
    for candidate in [*seed.close, *rest]:
        if len(members) == size:
            break
        if all(candidate in people[m].contacts for m in members):
            members.append(candidate)
    return members


def form_rooms(plan: Plan) -> list[Room]:
    """The network's group conversations, from its contact graph.

    Friend groups (3-12) and family groups (3-7) are people who all list each other,
    and everyone in them talks. A work or club room (20-80) is a member's contacts and
    their friends, most of whom do not know one another, and few talk: in real groups
    most members lurk. A public room (100-300) is anyone, strangers to one another, with
    a few regulars who keep it going."""
    rng, people = plan.rng, plan.network.people
    names = sorted(n for n in people if n not in plan.actors and n != HUB)
    rooms: list[Room] = []
    for kind, count, sizes in (("friend-group", len(names) // 12, (3, 12)),
                               ("family-group", len(names) // 30, (3, 7))):
        for seed in rng.sample(names, min(len(names), max(2, count))):
            members = _clique(people, people[seed], rng.randint(*sizes), rng)
            if len(members) >= 3:
                rooms.append(Room(f"{kind}-{len(rooms)}", kind, members, list(members)))
    for seed in rng.sample(names, min(len(names), max(2, len(names) // 60))):
        circle = set(people[seed].contacts)
        for friend in people[seed].close:
            circle |= people[friend].contacts
        pool = sorted(circle - {seed} - set(plan.actors) - {HUB})
        members = [seed, *rng.sample(pool, min(len(pool), rng.randint(20, 80) - 1))]
        talkers = [seed, *rng.sample(members[1:], min(len(members) - 1, rng.randint(1, 4)))]
        rooms.append(Room(f"work-room-{len(rooms)}", "work-room", members, talkers))
    size = min(len(names) // 2, rng.randint(100, 300))
    members = rng.sample(names, size)
    rooms.append(Room(f"public-room-{len(rooms)}", "public-room", members, members[:3]))
    return rooms


def _chat(plan: Plan, room: Room, start: float, lines: int, day: int,
          speakers: list[str] | None = None) -> float:
    """``lines`` posts into ``room`` from ``speakers`` (its talkers), a reply every few
    seconds to minutes; when the chat ends."""
    rng, people = plan.rng, plan.network.people
    truth = Truth(spim=False, scenario="groups", trap=room.kind)
    at = start
    for _ in range(lines):
        at += rng.uniform(8, 240)
        speaker = rng.choice(speakers or room.talkers)
        text = plan.texts.ham(rng)
        if rng.random() < 0.04:
            text = f"{text} {plan.texts.benign_link(rng)}"
        plan.own(at, people[speaker], room.others(speaker), text, day, truth,
                 room.conversation)
    return at


def _newcomer(plan: Plan, name: str, index: int, contacts: list[str], day: int) -> Person:
    """A new account (the ``index``-th, which numbers its addresses): signs up on ``day``
    and uploads its phone book (``contacts``)."""
    person = Person(name=name, display=plan.rng.choice(FIRST_NAMES),
                    home_ip=f"100.126.{index % 250}.{index // 250 + 2}",
                    mobile_ip=f"10.12.{index % 250}.{index // 250 + 2}",
                    client=OFFICIAL_CLIENTS[index % len(OFFICIAL_CLIENTS)], wake=9.0,
                    chattiness=1.0)
    midnight = plan.start + day * DAY
    plan.add(midnight + plan.rng.uniform(10, 12) * HOUR,
             {"type": "contacts", "account": name, "contacts": sorted(contacts)})
    return person


def groups(plan: Plan) -> None:
    """Group conversations every day (``form_rooms``), and on the last day newcomers,
    cross-posted announcements and the attacks that use rooms (``group_attacks``).

    Each day a friend group chats once or twice in the evening, a family once, a work
    room's talkers a few times in office hours and a public room's regulars now and then;
    in the public room a few members who joined that day say hello. On the last day new
    accounts join a friend's group (the friend lists them back and invites them; the
    others have not added them yet) and say hello, other new accounts greet the public
    room, and members of several rooms post one announcement, with a link to a small
    local site, to two or three of them. The IM server states who is in each room
    (``room`` events): the rooms as they were before the run, then each join and leave."""
    rng, people = plan.rng, plan.network.people
    rooms = form_rooms(plan)
    for room in rooms:  # the server's rooms, as it states them when spimguard starts
        plan.room(plan.start - HOUR, room.members[0], room.conversation, room.members,
                  since=plan.start - ROOMS_AGE)
    public = rooms[-1]
    outside = sorted(set(people) - set(public.members) - set(plan.actors) - {HUB})
    means = {"friend-group": 1.5, "family-group": 1.0, "work-room": 3.0, "public-room": 4.0}
    lines = {"friend-group": (3, 10), "family-group": (2, 5), "work-room": (1, 4),
             "public-room": (1, 3)}
    hours = {"friend-group": (17, 22.5), "family-group": (11, 21), "work-room": (10, 18),
             "public-room": (11, 22)}
    for day in range(plan.days):
        midnight = plan.start + day * DAY
        for room in rooms:
            for _ in range(_poisson(rng, means[room.kind])):
                _chat(plan, room, midnight + rng.uniform(*hours[room.kind]) * HOUR,
                      rng.randint(*lines[room.kind]), day)
        for name in rng.sample(outside, min(len(outside), rng.randint(3, 8))):
            outside.remove(name)
            public.members.append(name)
            at = midnight + rng.uniform(12, 22) * HOUR
            plan.room(at - 60, name, public.conversation, [name])
            greeting = rng.choice(GROUP_HELLO).format(name=people[name].display)
            plan.own(at, people[name], public.others(name), greeting, day,
                     Truth(spim=False, scenario="groups", trap="public-greeting"),
                     public.conversation)
            _chat(plan, public, at, rng.randint(0, 2), day)
    day = plan.days - 1
    _newcomers(plan, rooms, day)
    _cross_posts(plan, rooms, day)
    group_attacks(plan, rooms)


def _newcomers(plan: Plan, rooms: list[Room], day: int) -> None:
    """New accounts joining a friend's group, and new accounts greeting the public room."""
    rng, people = plan.rng, plan.network.people
    midnight = plan.start + day * DAY
    friends = [r for r in rooms if r.kind == "friend-group"]
    count = max(2, len(people) // 100)
    for k, room in enumerate(rng.sample(friends, min(count, len(friends)))):
        person = _newcomer(plan, f"newcomer-{k}", k, room.members, day)
        inviter = people[room.members[0]]
        at = midnight + rng.uniform(12.5, 18) * HOUR
        plan.add(at, {"type": "contacts", "account": inviter.name,
                      "contacts": sorted(inviter.contacts | {person.name})})
        plan.login(at + 60, person.name, _own_session(person, day), person.client,
                   plan.session_ip(person, day), owner=True)
        plan.add(at + 120, {"type": "invite", "sender": inviter.name,
                            "recipients": [person.name], "conversation": room.conversation,
                            "session": _own_session(inviter, day),
                            "client": {"id": inviter.client,
                                       "ip": plan.session_ip(inviter, day)}},
                 Truth(spim=False, scenario="groups", trap="friend-invite"))
        plan.room(at + 180, person.name, room.conversation, [person.name])
        room.members.append(person.name)
        truth = Truth(spim=False, scenario="groups", trap="newcomer-friends")
        at += rng.uniform(300, 900)
        plan.own(at, person, room.others(person.name),
                 rng.choice(GROUP_HELLO).format(name=person.display), day, truth,
                 room.conversation)
        at = _chat(plan, room, at, rng.randint(2, 5), day, room.members[:-1])
        for _ in range(rng.randint(1, 3)):
            at += rng.uniform(30, 300)
            plan.own(at, person, room.others(person.name), plan.texts.ham(rng), day, truth,
                     room.conversation)
    public = rooms[-1]
    for k in range(count):
        known = rng.sample(sorted(people), rng.randint(0, 3))
        person = _newcomer(plan, f"joiner-{k}", count + k, known, day)
        at = midnight + rng.uniform(12.5, 20) * HOUR
        plan.login(at, person.name, _own_session(person, day), person.client,
                   plan.session_ip(person, day), owner=True)
        plan.room(at + 30, person.name, public.conversation, [person.name])
        public.members.append(person.name)
        plan.own(at + rng.uniform(60, 600), person, public.others(person.name),
                 rng.choice(GROUP_HELLO).format(name=person.display), day,
                 Truth(spim=False, scenario="groups", trap="newcomer-public"),
                 public.conversation)


def _cross_posts(plan: Plan, rooms: list[Room], day: int) -> None:
    """Members of several rooms posting one announcement to two or three of them."""
    rng, people = plan.rng, plan.network.people
    joined: dict[str, list[Room]] = {}
    for room in rooms:
        for member in room.members:
            if member in people:
                joined.setdefault(member, []).append(room)
    several = sorted(n for n, rs in joined.items() if len(rs) >= 2 and n not in plan.actors)
    truth = Truth(spim=False, scenario="groups", trap="cross-post")
    for name in rng.sample(several, min(len(several), max(3, len(people) // 100))):
        text = rng.choice(ANNOUNCEMENTS).format(site=rng.choice(COMMUNITY_SITES),
                                                n=rng.randrange(10**4))
        at = plan.attack_day + rng.uniform(12, 20) * HOUR
        picked = rng.sample(joined[name], min(len(joined[name]), rng.randint(2, 3)))
        for room in picked:
            at += rng.uniform(20, 120)
            plan.own(at, people[name], room.others(name), text, day, truth,
                     room.conversation)


def group_attacks(plan: Plan, rooms: list[Room]) -> None:
    """Spim through rooms, on the last day, with promotion links.

    ``group-bots``: a new account creates rooms of strangers (invites them) and pitches in
    each. ``group-rotate``: one conversation, its members rotated between posts, so that
    each post reaches some new strangers. ``group-socks``: a bot whose three socks (new
    accounts that each wrote it a line) are put in every room it creates, to vouch for it.
    ``group-hijack``: a hijacked member, from a hosting network, posts into all its rooms.
    The socks are actors of their own (``group-socks-crew``): they write to nobody but
    the bot, so their row says "never contained", and an action on one is no innocent's."""
    rng, people = plan.rng, plan.network.people
    targets = sorted(n for n in people if n not in plan.actors and n != HUB)
    count = max(2, len(people) // 500)

    def pitch(n: int) -> str:
        return rng.choice(GROUP_PITCH).format(domain=PROMO_DOMAINS[n % len(PROMO_DOMAINS)],
                                              n=rng.randrange(10**6))

    def spam_rooms(bot: str, n: int, truth: Truth, ip: str, at: float, crew: list[str]
                   ) -> None:
        for k in range(4):
            conversation = f"{bot}-room{k}"
            members = [*crew, *rng.sample(targets, rng.randint(30, 60))]
            at += rng.uniform(30, 300)
            plan.add(at, {"type": "invite", "sender": bot, "recipients": members,
                          "conversation": conversation, "session": bot,
                          "client": {"id": "bulkbot", "ip": ip}}, truth)
            plan.room(at, bot, conversation, [bot, *members])  # made it, added them
            for _ in range(3):
                at += rng.uniform(60, 600)
                plan.send(at, bot, members, pitch(n), bot, "bulkbot", ip, truth,
                          conversation)

    for n in range(count):
        bot = f"room-bot{n}"
        truth, ip, at = _bot(plan, bot, "group-bots", n, (9, 18))
        spam_rooms(bot, n, truth, ip, at, [])
    for n in range(count):
        bot = f"rotate-bot{n}"
        truth, ip, at = _bot(plan, bot, "group-rotate", n, (9, 18))
        members = rng.sample(targets, 25)
        plan.room(at, bot, f"{bot}-room", [bot, *members])
        for _ in range(15):
            at += rng.uniform(60, 600)
            plan.send(at, bot, list(members), pitch(n), bot, "bulkbot", ip, truth,
                      f"{bot}-room")
            before = list(members)
            for gone in rng.sample(range(len(members)), 8):
                members[gone] = rng.choice(targets)
            left, added = set(before) - set(members), set(members) - set(before)
            if left:
                plan.room(at + 1, bot, f"{bot}-room", sorted(left), "leave")
            if added:
                plan.room(at + 1, bot, f"{bot}-room", sorted(added))
    for n in range(count):
        bot = f"sock-bot{n}"
        socks = [f"{bot}-sock{k}" for k in range(3)]
        truth, ip, at = _bot(plan, bot, "group-socks", n, (9, 18))
        for sock in socks:  # each sock writes the bot a line: its voucher
            plan.bots.add(sock)
            plan.actors[sock] = "group-socks-crew"
            at += rng.uniform(10, 60)
            plan.login(at, sock, sock, "bulkbot", ip)
            plan.add(at + 5, {"type": "message", "sender": sock, "recipients": [bot],
                              "text": plan.texts.ham(rng), "session": sock,
                              "client": {"id": "bulkbot", "ip": ip}})
        spam_rooms(bot, n, truth, ip, at + HOUR, socks)
    joined = {m: [r for r in rooms if m in r.members] for m in targets}
    several = sorted(m for m, rs in joined.items() if len(rs) >= 2)
    for n, name in enumerate(rng.sample(several, min(len(several), count))):
        plan.actors[name] = "group-hijack"
        truth = Truth(spim=True, scenario="group-hijack", actor=name)
        client = rng.choice(OFFICIAL_CLIENTS)
        ip = f"{HOSTING_NETWORKS[n % len(HOSTING_NETWORKS)]}.{rng.randrange(2, 250)}"
        session = f"{name}-group-hijack"
        at = plan.attack_day + rng.uniform(11, 17) * HOUR
        plan.login(at, name, session, client, ip)
        for room in joined[name]:
            at += rng.uniform(5, 30)
            plan.send(at, name, room.others(name), pitch(n), session, client, ip, truth,
                      room.conversation)


def installed_today(plan: Plan) -> None:
    """spimguard installed on the morning of the last day: the days before happened (the
    attackers harvested, people made friends) but it saw none of them, except the contact
    lists and the rooms' members the IM server hands over at installation."""
    plan.events = [e for e in plan.events
                   if e.ts >= plan.attack_day or e.body["type"] in ("contacts", "room")]


ATTACKS: dict[str, Callable[[Plan], None]] = {
    "hijack": hijack, "patient": patient, "bots": bots, "phish": phish, "benign-bulk": benign_bulk,
    "adversarial": adversarial, "viral": viral, "hard-ham": hard_ham, "groups": groups}
SCENARIOS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in ATTACKS},
    "mixed": ("hijack", "bots", "phish", "benign-bulk"),
    "quiet": (),  # ordinary life only: the false-positive baseline
    # Every attack on the day of installation, with no history (``installed_today``).
    "cold-start": ("hijack", "bots", "phish", "benign-bulk"),
}
# Scenarios whose history the detectors never see: applied after the attacks are planned.
BLIND = {"cold-start": installed_today}


def plan(network: Network, texts: Texts, scenario: str, days: int,
         rng: random.Random) -> Plan:
    """Every event of the simulation, in event-time order."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)}")
    if days < 1:
        raise ValueError("days must be at least 1 (2 or more gives the detectors history)")
    parts = SCENARIOS[scenario]
    if "benign-bulk" in parts:
        add_hub(network, rng)
    result = Plan(network, texts, rng, days)
    life(result)
    for part in parts:
        ATTACKS[part](result)
    if scenario in BLIND:
        BLIND[scenario](result)
    result.events.sort(key=lambda e: e.ts)
    return result


def ciphertext_size(text: str) -> int:
    """Bytes of a Megolm-style ciphertext of ``text``: the event's JSON (about 100 bytes
    around the body) in AES-CBC blocks of 16, an 8-byte MAC, base64 (no padding)."""
    plain = len(text.encode("utf-8")) + 100
    sealed = 16 * (plain // 16 + 1) + 8
    return math.ceil(sealed * 4 / 3)


def encrypt(plan: Plan, share: float, seed: int) -> None:
    """End-to-end encrypt ``share`` of all messages: the server then sees their metadata
    and size, never the words. Drawn from its own generator (``seed``), so the plan's other
    events are the same at any share; a message sent with an operator-visible ``ref`` (the
    adversarial scenario's bait) is encrypted like any other."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"--encrypted {share}: a share between 0 and 1")
    rng = random.Random(f"encrypted:{seed}")
    for planned in plan.events:
        body = planned.body
        if body["type"] != "message" or rng.random() >= share:
            continue
        text = str(body.pop("text", ""))
        planned.plaintext = text
        body["encrypted"] = True
        body["size"] = ciphertext_size(text)


# Seconds from a sign-in to the owner approving it on another of its devices: the prompt
# appears there, the owner scans the new device's QR code or compares its emoji.
VERIFY_DELAY = (20.0, 150.0)


def verify(plan: Plan, share: float, seed: int) -> int:
    """The platform's device verification: ``share`` of the owners' sign-ins on its own apps
    are approved from another of the owner's devices (Signal and WhatsApp link a device by
    the phone's QR scan; Matrix clients cross-sign a new login from another session or the
    recovery key), which the IM server reports as a passed ``challenge`` of that session,
    unasked, ``VERIFY_DELAY`` after the sign-in. How many it planned.

    An intruder holding the password alone has no device of the owner's to approve from,
    and a bot's software is no platform app: their sign-ins are never verified (a bot
    could approve its own throwaway's second device; a pass proves the holder, which a
    throwaway's is, and earns it nothing: ``tests/test_challenge.py``). Drawn from its own
    generator (``seed``), each sign-in's share and delay both, so the plan's other events
    are the same at any share and a sign-in verified at one share is verified, at the same
    moment, at any higher one."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"--verified {share}: a share between 0 and 1")
    rng = random.Random(f"verified:{seed}")
    verified: list[Planned] = []
    for planned in plan.events:
        body = planned.body
        if body["type"] != "login" or not planned.owner or not body["success"]:
            continue
        drawn, delay = rng.random(), rng.uniform(*VERIFY_DELAY)
        client = body["client"]
        if drawn < share and isinstance(client, dict) and client["id"] in OFFICIAL_CLIENTS:
            verified.append(Planned(planned.ts + delay, {
                "type": "challenge", "account": body["account"], "session": body["session"],
                "passed": True}))
    if verified:
        plan.events.extend(verified)
        plan.events.sort(key=lambda e: e.ts)
    return len(verified)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; means here are small."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
