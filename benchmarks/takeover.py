"""Hijacked accounts in a network of 5,000 users: containment, owners, innocents, cost.

    python benchmarks/takeover.py [--users 5000 --hijacked 50 --datasets ../shared/datasets]

Two days of ordinary life (daily logins from home, mostly the official app, one
user in ten on a third-party app; chats with contacts using UCI ham texts),
then the attack day: ordinary life goes on, 1 % of users greet all their
contacts at new year, and the ringtone seller logs in to the hijacked accounts
from a few hosting networks (half with a spoofed official client id), reads
each contact list and sends every contact a personalised promo with a link.
Everything runs through the engine in event time (memory backend, defaults).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

import msgspec

from spimguard import decode_event, load_config, open_engine
from spimguard.detectors.takeover import TakeoverDetector
from spimguard.detectors.takeover import record as takeover_record
from spimguard.model import datasets
from spimguard.state.ops import Get
from table import DATASETS, show

T0 = 1_790_000_000.0
DAY = 86_400.0
OFFICIAL = ["im-android", "im-ios", "im-desktop"]
PROMO = ["Hi {name}! I found the best ringtones ever, get yours free at http://{domain}/r{n}",
         "{name}, check this out: new ringtones for your phone http://{domain}/?id={n}",
         "hey {name} :) you have to try these ringtones http://www.{domain}/{n}"]
# Pitches with no spammy words, so that only the takeover evidence can stop them.
BLAND = ["{name}, you have to see this :) http://{domain}/{n}",
         "hey {name}, is this you?? http://www.{domain}/p/{n}"]
DOMAINS = ["tonez-club.biz", "ring-mania.info", "get-tones.top"]


class Timed:
    """Wraps a detector's methods to total the time spent in them."""

    def __init__(self, detector: TakeoverDetector) -> None:
        self.seconds = 0.0
        for name in ("reads", "detect", "writes"):
            original = getattr(detector, name)

            def timed(*args, _original=original):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return _original(*args)
                finally:
                    self.seconds += time.perf_counter() - started

            setattr(detector, name, timed)


def main(root: Path, users: int = 5000, hijacked: int = 50, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    ham = [s.text for s in datasets.read(str(root / "sms-spam-collection/SMSSpamCollection"))
           if not s.spam]
    names = [f"u{i}" for i in range(users)]
    contacts: dict[str, set[str]] = defaultdict(set)
    for user in names:  # a heavy-tailed graph: most have dozens of contacts, a few hundreds
        for friend in rng.sample(names, min(users - 1, int(rng.lognormvariate(3.3, 0.6)))):
            if friend != user:
                contacts[user].add(friend)
                contacts[friend].add(user)
    home = {u: f"100.{i // 250 % 250}.{i % 250}.{rng.randrange(2, 250)}"
            for i, u in enumerate(names)}
    app = {u: ("pidgin-2.14" if rng.random() < 0.1 else rng.choice(OFFICIAL)) for u in names}
    victims = rng.sample(names, hijacked)
    greeters = set(rng.sample([u for u in names if u not in victims], users // 100))

    cfg = load_config(environ={}, storage={"backend": "memory"}, official_clients=OFFICIAL)
    engine = open_engine(cfg)
    detector = next(d for d in engine.detectors if isinstance(d, TakeoverDetector))
    timer = Timed(detector)
    events: list[tuple[float, dict]] = []
    for user in names:
        events.append((T0 - 3 * DAY, {"type": "contacts", "account": user,
                                      "contacts": sorted(contacts[user])}))

    def ordinary_day(day: float) -> None:
        for user in names:
            start = day + rng.uniform(7, 10) * 3600
            events.append((start, {"type": "login", "account": user, "session": f"{user}-own",
                                   "ip": home[user], "client": {"id": app[user]}}))
            friends = sorted(contacts[user])
            for k in range(rng.randint(4, 12)):
                events.append((start + 60 + k * rng.uniform(60, 1800), {
                    "type": "message", "sender": user, "session": f"{user}-own",
                    "recipients": [rng.choice(friends)], "text": rng.choice(ham),
                    "client": {"id": app[user], "ip": home[user]}, "owner": True}))

    for d in (3, 2):
        ordinary_day(T0 - d * DAY)
    ordinary_day(T0 - DAY)  # the attack day's ordinary life (T0 - DAY .. T0)
    attack_start = T0 - DAY + 12 * 3600
    for user in greeters:
        for k, friend in enumerate(sorted(contacts[user])):
            events.append((attack_start + 1800 + k * 2, {
                "type": "message", "sender": user, "session": f"{user}-own",
                "recipients": [friend], "text": "Happy new year!! 🎉 all the best for 2027",
                "client": {"id": app[user], "ip": home[user]}, "owner": True}))
    for n, user in enumerate(victims):
        start = attack_start + n * 60
        client = "im-android" if n % 2 else "MobileFunster 2.1"
        ip = f"203.0.113.{n % 4 * 60 + 7}" if n % 3 else f"198.18.{n % 2}.{n}"
        session = f"{user}-seller"
        events.append((start, {"type": "login", "account": user, "session": session, "ip": ip,
                               "client": {"id": client}}))
        events.append((start + 3, {"type": "contacts_read", "account": user, "session": session,
                                   "count": len(contacts[user])}))
        for k, friend in enumerate(sorted(contacts[user])):
            events.append((start + 10 + k * rng.uniform(2, 5), {
                "type": "message", "sender": user, "session": session, "recipients": [friend],
                "text": rng.choice(BLAND if n % 2 else PROMO).format(
                    name=friend, domain=DOMAINS[n % 3], n=k),
                "client": {"id": client, "ip": ip}, "spim": True}))
    events.sort(key=lambda pair: pair[0])

    spim_until_stop: dict[str, int] = defaultdict(int)
    stopped: set[str] = set()
    owner_total = owner_ok = messages = 0
    actioned: set[str] = set()
    started = time.perf_counter()
    for number, (ts, body) in enumerate(events):
        owner, spim = body.pop("owner", False), body.pop("spim", False)
        body.update(id=f"e{number}", ts=ts)
        result = engine.process(decode_event(msgspec.json.encode(body), cfg.limits))
        account = body.get("sender") or body.get("account")
        if result.account_action.action != "none":
            actioned.add(account)
        if body["type"] != "message":
            continue
        messages += 1
        if spim and account not in stopped:
            if result.action in ("hold", "block"):
                stopped.add(account)
            else:
                spim_until_stop[account] += 1
        if owner and ts >= T0 - DAY:
            owner_total += 1
            owner_ok += result.action in ("deliver", "warn")
    elapsed = time.perf_counter() - started
    delivered = sorted(spim_until_stop.get(v, 0) for v in victims)
    bland = sorted(spim_until_stop.get(v, 0) for n, v in enumerate(victims) if n % 2)
    innocents = [u for u in actioned if u not in victims]
    records = [r for r in engine.state.read([Get(takeover_record.key(u)) for u in names], T0)
               if r]
    sizes = [len(msgspec.json.encode(r)) for r in records]
    return [
        ("users / hijacked / new-year greeters / third-party app users",
         f"{users}/{hijacked}/{len(greeters)}/{sum(a == 'pidgin-2.14' for a in app.values())}"),
        ("spim delivered per hijacked account before containment, median",
         f"{statistics.median(delivered):.1f}"),
        ("... p90", f"{delivered[int(0.9 * (len(delivered) - 1))]}"),
        ("... with a bland pitch (no spammy words), median / p90",
         f"{statistics.median(bland):.1f} / {bland[int(0.9 * (len(bland) - 1))]}"),
        ("hijacked accounts never contained", f"{hijacked - len(stopped)}"),
        ("owners' own messages on the attack day delivered", f"{owner_ok / owner_total:.3%}"),
        ("normal accounts challenged or suspended",
         f"{len(innocents)} ({len(innocents) / (users - hijacked):.3%})"),
        ("account record (profile, sessions) size, mean / max bytes",
         f"{statistics.mean(sizes):.0f} / {max(sizes)}"),
        ("takeover check per message (reads+detect+writes), µs",
         f"{timer.seconds / messages * 1e6:.1f}"),
        ("events / messages replayed; engine messages/s",
         f"{len(events)} / {messages}; {messages / elapsed:,.0f}"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--hijacked", type=int, default=50)
    args = parser.parse_args()
    show(main(args.datasets, args.users, args.hijacked))
