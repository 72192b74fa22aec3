"""Bulk spim and campaigns: one personalised campaign in a stream of chat; cost; memory.

    python benchmarks/bulk.py [--datasets ../shared/datasets] [--distinct 1000000]

1. 10,000 messages of one personalised campaign (a name, a number and a link that
   change in every copy; one copy in seven uses another pitch) through 50
   accounts, mixed into 100,000 ham messages through the engine with default
   settings. The shipped sets have 5,600 distinct ham texts, so each is resent
   by about 18 unrelated users: far more repetition than chat has, which makes
   this a hard test of "bulk alone never holds".
2. Fingerprint + LSH query and update, per message, on one core.
3. State held under a stream of distinct texts (one a second of event time),
   with the memory backend's periodic sweep.
4. The ham price of what makes two texts one (session 33, ``respin33``): pairs of
   distinct ham texts of each real set (masked as bulk masks them) that share a band
   key, and the most distinct texts one key holds. Unrelated people's messages that
   meet add their senders to one cluster's counts.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
import tracemalloc
from pathlib import Path

import msgspec

from spimguard import decode_event, load_config, open_engine
from spimguard.detectors.bulk import BulkSettings, band_keys, text_keys
from spimguard.model import datasets
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Get, Put
from spimguard.text import masked_for, names_of, view
from table import DATASETS, show

T0 = 1_790_000_000.0
PITCH = ["Hi {name}! Best ringtones of the year, {n} tones free today at http://{d}/r{n}",
         "{name}, I got new ringtones for my phone here: http://{d}/?ref={n} they are great",
         "hey {name} :) you must try these ringtones, {n} new ones at http://www.{d}/{n}"]


def stream(root: Path, ham_count: int, spam_count: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    ham = [s.text for s in datasets.dedupe(
        s for name in ("sms-spam-collection/SMSSpamCollection",
                       "sms-phishing-mishra-soni/Dataset_5971.csv",
                       "indonesian-sms-spam-rahmi-wibisono/dataset_sms_spam_v1.csv")
        for s in datasets.read(str(root / name))) if not s.spam]
    pitch = rng.choice(PITCH)
    events = []
    every = (ham_count + spam_count) // spam_count
    spam_sent = 0
    for i in range(ham_count + spam_count):
        ts = T0 + i * 0.05
        if i % every == 0 and spam_sent < spam_count:
            name = f"user{rng.randrange(20_000)}"
            text = rng.choice(PITCH if spam_sent % 7 == 0 else [pitch]).format(
                name=name, n=rng.randrange(10_000), d="tonez-club.biz")
            events.append({"type": "message", "id": f"s{spam_sent}", "ts": ts,
                           "sender": f"hijacked{spam_sent % 50}", "recipients": [name],
                           "text": text, "spim": True})
            spam_sent += 1
        else:
            sender = rng.randrange(20_000)
            events.append({"type": "message", "id": f"h{i}", "ts": ts, "sender": f"user{sender}",
                           "recipients": [f"user{(sender + rng.randrange(1, 60)) % 20_000}"],
                           "text": rng.choice(ham), "spim": False})
    return events


def campaign(root: Path) -> list[tuple[str, str]]:
    cfg = load_config(environ={}, storage={"backend": "memory"})
    engine = open_engine(cfg)
    warn, hold = cfg.policy.warn, cfg.policy.hold
    spam_actions: list[str] = []
    ham_stopped = ham_on_bulk = ham_tipped = ham_total = ham_bulk = 0
    campaigns: set[str] = set()
    started = time.perf_counter()
    for body in stream(root, 100_000, 10_000):
        spim = body.pop("spim")
        verdict = engine.process(decode_event(msgspec.json.encode(body), cfg.limits))
        if spim:
            spam_actions.append(verdict.action)
            if verdict.campaign:
                campaigns.add(verdict.campaign)
            continue
        ham_total += 1
        bulk = sum(s.score for s in verdict.signals if s.code == "BULK_NEAR_DUPLICATE")
        ham_bulk += bool(bulk)
        if verdict.action in ("hold", "block"):
            ham_stopped += 1
            rest = verdict.score - bulk
            ham_on_bulk += bool(bulk and rest < warn)  # nothing else worth even a warning
            ham_tipped += bool(bulk and warn <= rest < hold)  # bulk + a second kind
    elapsed = time.perf_counter() - started
    after = spam_actions[20:]
    stopped = sum(a in ("hold", "block") for a in after) / len(after)
    return [("campaign messages after the 20th held or blocked", f"{stopped:.2%}"),
            ("campaign ids the verdicts carried (one per pitch variant)", f"{len(campaigns)}"),
            (f"ham ({ham_total}) held or blocked",
             f"{ham_stopped} ({ham_stopped / ham_total:.3%})"),
            ("ham with bulk evidence (any strength)", f"{ham_bulk}"),
            ("ham held or blocked on bulk evidence alone", f"{ham_on_bulk}"),
            ("ham held: bulk plus warn-level other evidence (e.g. content)", f"{ham_tipped}"),
            ("engine messages/s on this stream", f"{110_000 / elapsed:,.0f}")]


def cost(root: Path) -> list[tuple[str, str]]:
    texts = [e["text"] for e in stream(root, 20_000, 2_000)]
    views = [view(t) for t in texts]
    state, settings = MemoryState(), BulkSettings()
    timings = []
    for i, v in enumerate(views):
        started = time.perf_counter()
        keys = text_keys(v, names_of(["user1"]), settings) or ()  # none: too short to cluster
        state.read([Get(k) for k in keys], T0 + i)
        state.write([Put(k, {"id": k, "n": 1}, 3600) for k in keys], T0 + i)
        timings.append(time.perf_counter() - started)
    return [("fingerprint + LSH query and update per message, median µs",
             f"{statistics.median(timings) * 1e6:.1f}")]


def memory(distinct: int) -> list[tuple[str, str]]:
    state = MemoryState()
    tracemalloc.start()
    samples = []
    for i in range(distinct):
        words = [f"w{(i * 7919 + j) % 1_000_003}" for j in range(8)]
        keys = band_keys(words, 6, 5)
        state.write([Put(k, {"id": keys[0], "n": 1}, 3600) for k in keys], T0 + i)
        if (i + 1) % (distinct // 5) == 0:
            samples.append(tracemalloc.get_traced_memory()[0] / 1e6)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return [(f"state memory after each fifth of {distinct:,} distinct texts, MB",
             " / ".join(f"{s:.0f}" for s in samples)),
            ("peak, MB", f"{peak:.0f}")]


# The real sets' ham, by language and platform (UCI and Mishra-Soni deduplicated together).
HAM_SETS = {"English SMS": ("sms-spam-collection/SMSSpamCollection",
                            "sms-phishing-mishra-soni/Dataset_5971.csv"),
            "Indonesian SMS": ("indonesian-sms-spam-rahmi-wibisono/dataset_sms_spam_v1.csv",),
            "Thai SMS (OK + OTP)": ("thai-sms-spam-ssivakorn/data/raw_data",),
            "X posts (Janitr)": ("janitr-x-crypto-scam/data/sample.jsonl",)}


def ham_joined(root: Path) -> list[tuple[str, str]]:
    settings, rows = BulkSettings(), []
    for label, names in HAM_SETS.items():
        texts = {masked_for(view(s.text), ()) for s in datasets.dedupe(
            s for name in names for s in datasets.read(str(root / name))) if not s.spam}
        holders: dict[str, list[str]] = {}
        for text in texts:
            for key in text_keys(view(text), (), settings) or ():
                holders.setdefault(key, []).append(text)
        pairs = {pair for held in holders.values() for pair in itertools.combinations(
            sorted(held), 2)}
        most = max(map(len, holders.values()), default=0)
        rows.append((f"{label}: distinct ham texts joined by a band key (pairs; most on one key"
                     f", of {len(texts):,})", f"{len(pairs):,}; {most}"))
    return rows


def main(root: Path, distinct: int = 1_000_000) -> list[tuple[str, str]]:
    return campaign(root) + ham_joined(root) + cost(root) + memory(distinct)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--distinct", type=int, default=1_000_000)
    args = parser.parse_args()
    show(main(args.datasets, args.distinct))
