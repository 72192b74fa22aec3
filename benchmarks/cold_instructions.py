"""Instructions an event on a platform's load beside the warm one: new texts, unseen senders.

    python benchmarks/cold_instructions.py [--users 150 --days 1] [--batch 500]
                                           [--load both | warm | cold]

``instructions.py``'s figure (the memory backend, every detector) is a warm one: the
simulator's load repeats 88 % of its texts (402 distinct in 2,934 messages at 150 users),
so the text view, content's features, bulk's band keys, waves' MinHash and the URL model's
judgements are mostly cache hits, and its 150 senders' takeover records all stay decoded in
the detector (``detector._DECODED_KEPT``, 2,048). A platform of 100 million accounts sees
neither: two people chatting write words nobody wrote before them, a campaign sends each
victim a copy greeting them by name with a link of their own (the tracking code that tells
the spammer who clicked), and the sender of an event is almost never among the few thousand
records a process keeps decoded. The cold load is the same events (senders, recipients,
times, clients, sessions, the same campaigns from the same hijacked accounts) with only that
changed:

- each ordinary line is replaced by a real one, each used once: the ham lines of the UCI
  SMS Spam Collection (``shared/datasets/sms-spam-collection`` beside the repository,
  read there, never copied into it; its PROVENANCE.md), in an order shuffled by a fixed seed;
- each campaign's text (the simulator's spam and its scenarios' pitches) becomes a copy
  for its first recipient: their id as the greeting, every link given a tracking code, and
  a reference code where it has none (``_personal``; the code is a digest of the event id,
  so the load is the same every run);
- no takeover record is kept decoded between batches (``_DECODED_KEPT`` 0 in the counted
  run), so every event of a sender met before decodes its record from bytes.

Printed: the warm and the cold figure, with the fraction of messages whose text is new (not
earlier in the load) and of events that decode their sender's record. Same code, same
count (``PYTHONHASHSEED=0``). ~20-50 minutes for both loads on a loaded machine.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
from collections.abc import Iterator

import msgspec

import engine
import instructions
import record_encode
from table import DATASETS, show

instructions.__file__ = __file__  # the child callgrind runs is this script: it sets the kept
CHAT = DATASETS / "sms-spam-collection/SMSSpamCollection"
_LINK = re.compile(r"(?:https?://|www\.)\S+")
KEPT_WARM = -1  # the child's argument for "the records kept as the detector keeps them"


def _chat_lines() -> Iterator[str]:
    """Real chat lines, each once, then each again with a count (only past 4,500 lines)."""
    from spimguard.model import datasets

    lines = list(dict.fromkeys(s.text.strip() for s in datasets.read(str(CHAT))
                               if not s.spam and s.text.strip()))
    random.Random(44).shuffle(lines)
    for round_ in range(1 << 30):
        yield from (line if not round_ else f"{line} ({round_})" for line in lines)


def _personal(text: str, event: dict[str, object]) -> str:
    """A campaign's copy for one recipient: greeted by id, each link with its own code."""
    code = hashlib.blake2b(str(event["id"]).encode(), digest_size=4).hexdigest()
    recipients = event.get("recipients")
    greeting = recipients[0] if isinstance(recipients, list) and recipients else "hi"
    coded, links = _LINK.subn(
        lambda link: f"{link[0]}{'&' if '?' in link[0] else '?'}r={code}", text)
    return f"{greeting}, {coded}" + ("" if links else f" ref {code}")


def cold_load(users: int, days: int) -> list[bytes]:
    """``engine.load(users, days)`` with every message's text new (see the module's
    docstring): ordinary lines real and unrepeated, campaigns' copies personal."""
    from spimguard.sim import texts

    hams = frozenset(texts.load().hams)
    chat = _chat_lines()
    out = []
    for line in engine.load(users, days):
        event = msgspec.json.decode(line)
        text = event.get("text")
        if isinstance(text, str) and text:
            event["text"] = next(chat) if text in hams else _personal(text, event)
        out.append(msgspec.json.encode(event))
    return out


def new_texts(lines: list[bytes]) -> float:
    """The fraction of a load's messages whose text no earlier message carried."""
    texts = [t for t in (msgspec.json.decode(line).get("text") for line in lines) if t]
    return len(set(texts)) / max(len(texts), 1)


def figure(lines: list[bytes], batch: int, kept: int) -> tuple[int, float]:
    """Instructions an event of judging ``lines`` (memory, every detector) with ``kept``
    records kept decoded (``KEPT_WARM``: as the detector keeps them), and the fraction of
    events that decoded their sender's record from bytes (a plain run, not counted)."""
    count, _ = instructions.per_event(lines, "all", "memory", batch, (str(kept),))
    _, decoded, events = record_encode.caught(lines, None if kept == KEPT_WARM else kept,
                                              batch)
    return count, decoded / events


def main(users: int = 150, days: int = 1, batch: int = 500, load: str = "both"
         ) -> list[tuple[str, str]]:
    rows = [(f"mixed load: {users:,} users, {days} days, batches of {batch}; events", ""),
            ("", "instructions an event / texts new / events decoding a record")]
    if load in ("both", "warm"):
        lines = engine.load(users, days)
        count, decoded = figure(lines, batch, KEPT_WARM)
        rows.append((f"warm (instructions.py's load, records kept), {len(lines):,} events",
                     f"{count:,} / {new_texts(lines):.1%} / {decoded:.1%}"))
    if load in ("both", "cold"):
        lines = cold_load(users, days)
        count, decoded = figure(lines, batch, 0)
        rows.append((f"cold (texts new, no record kept), {len(lines):,} events",
                     f"{count:,} / {new_texts(lines):.1%} / {decoded:.1%}"))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        from spimguard.detectors.takeover import detector

        if int(sys.argv[7]) != KEPT_WARM:
            detector._DECODED_KEPT = int(sys.argv[7])
        instructions.child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
                           int(sys.argv[6]))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500,
                        help="events handed to the engine at once")
    parser.add_argument("--load", default="both", choices=("both", "warm", "cold"))
    args = parser.parse_args()
    show(main(args.users, args.days, args.batch, args.load))
