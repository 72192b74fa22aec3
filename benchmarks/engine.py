"""Engine throughput in-process on one core, memory and SQLite backends.

    python benchmarks/run.py            # every benchmark
    python benchmarks/engine.py [--messages N]

The load: 5,000 users chatting with their contacts, a few bots fanning out to
strangers, contact snapshots first. Events are built before the clock starts;
the figure is messages judged per second, committed in batches of 500 (as
/v1/events does). Each backend runs on a fresh store.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import msgspec

from spimguard import decode_event, load_config, open_engine
from spimguard.text import _view as uncached_view  # the work, not the cache that saves it
from table import show

T0 = 1_790_000_000.0
HAM = ["see you at {n}", "did you get my mail about the {n} tickets?", "lol ok",
       "can you call me after {n}? it's about the party", "Привет! как дела?",
       "check this https://www.youtube.com/watch?v={n}", "我们明天见 {n}", "thanks!! 😀"]
SPAM = ["FREE ringtones for you {n}! get them at tones{m} dot com",
        "hey, I found cheap ringt0nes here: http://ring-tones{m}.biz/r?u={n}"]


def load(messages: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    users = [f"u{i}" for i in range(5000)]
    lines: list[bytes] = []
    contacts = {u: rng.sample(users, 12) for u in users}
    for i, user in enumerate(users):
        lines.append(msgspec.json.encode({"type": "contacts", "id": f"c{i}", "ts": T0,
                                          "account": user, "contacts": contacts[user]}))
    ts = T0 + 1
    for i in range(messages):
        ts += 0.01
        if rng.random() < 0.1:
            bot = f"bot{rng.randrange(20)}"
            body = {"type": "message", "id": f"m{i}", "ts": ts, "sender": bot,
                    "recipients": [rng.choice(users)], "session": bot,
                    "text": rng.choice(SPAM).format(n=rng.randrange(1000), m=rng.randrange(5))}
        else:
            sender = rng.choice(users)
            body = {"type": "message", "id": f"m{i}", "ts": ts, "sender": sender,
                    "recipients": [rng.choice(contacts[sender])], "session": sender + "-p",
                    "text": rng.choice(HAM).format(n=rng.randrange(1000))}
        lines.append(msgspec.json.encode(body))
    return lines


def run(backend: str, lines: list[bytes], data_dir: Path | None) -> float:
    cfg = load_config(environ={}, storage={"backend": backend})
    engine = open_engine(cfg, data_dir)
    events = [decode_event(line, cfg.limits) for line in lines]
    setup, timed = events[:5000], events[5000:]
    engine.process_batch(setup)
    started = time.perf_counter()
    for start in range(0, len(timed), 500):
        engine.process_batch(timed[start:start + 500])
    elapsed = time.perf_counter() - started
    engine.close()
    return len(timed) / elapsed


def text_view_us(lines: list[bytes]) -> float:
    texts = [msgspec.json.decode(line)["text"] for line in lines[5000:25000]]
    started = time.perf_counter()
    for text in texts:
        uncached_view(text)
    return (time.perf_counter() - started) / len(texts) * 1e6


def main(messages: int = 50_000) -> list[tuple[str, str]]:
    lines = load(messages)
    rows = [("text view, µs per message", f"{text_view_us(lines):.1f}")]
    memory = run("memory", lines, None)
    rows.append(("engine, memory backend, messages/s", f"{memory:,.0f}"))
    with tempfile.TemporaryDirectory() as folder:
        sqlite = run("sqlite", lines, Path(folder))
    rows.append(("engine, SQLite backend, messages/s", f"{sqlite:,.0f}"))
    rows.append(("SQLite / memory", f"{sqlite / memory:.2f}"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    show(main(parser.parse_args().messages))
