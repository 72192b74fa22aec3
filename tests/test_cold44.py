"""Session 44's ``cold44``: a platform's load counted beside the warm one, and the cut.

``benchmarks/cold_instructions.py`` counts the engine on the simulator's events with every
text new (real chat lines, campaigns' personal copies) and no takeover record kept
decoded; ``judge_split.py --cold`` splits that load by step. Its largest part no other
helper was cutting was bulk's band keys for a text new to its cache (~196,000
instructions a text): their pairs are now mixed in one integer's lanes (``bulk._mixed``),
a word's marks found by ``str.strip`` and the keys written in hex, every key as before.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import zlib
from pathlib import Path

import msgspec
import pytest

from spimguard.detectors import bulk
from spimguard.detectors.bulk import band_keys
from test_takeover43 import _frames

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import cold_instructions
    import engine as engine_benchmark
    import judge_split
    import record_encode

needs_chat = pytest.mark.skipif(not cold_instructions.CHAT.is_file(),
                                reason="the UCI SMS Spam Collection is not on this machine")


def _fields(line: bytes) -> dict[str, object]:
    event = msgspec.json.decode(line)
    event.pop("text", None)
    return dict(event)


@needs_chat
def test_the_cold_load_is_the_warm_loads_events_with_every_text_new() -> None:
    """Same events (ids, types, senders, recipients, times, clients) in the same order,
    every message's text new; the same load at every call (a count is the code's)."""
    warm = engine_benchmark.load(40, 1)
    cold = cold_instructions.cold_load(40, 1)
    assert [_fields(c) for c in cold] == [_fields(w) for w in warm]
    assert cold_instructions.new_texts(cold) == 1.0
    assert cold_instructions.new_texts(warm) < 0.5
    assert cold == cold_instructions.cold_load(40, 1)


@needs_chat
def test_a_campaigns_copy_greets_its_recipient_and_each_link_has_its_own_code() -> None:
    """A campaign's text is kept whole in its copy, after the recipient's id, with a code
    on each link (or after the text when it has none); ordinary lines are real ones."""
    from spimguard.sim import texts

    simulated = texts.load()
    warm = [msgspec.json.decode(line) for line in engine_benchmark.load(40, 1)]
    cold = [msgspec.json.decode(line) for line in cold_instructions.cold_load(40, 1)]
    pitched = [(w, c) for w, c in zip(warm, cold, strict=True)
               if w.get("text") and w["text"] not in simulated.hams]
    assert pitched
    for was, copy in pitched:
        assert copy["text"].startswith(f"{copy['recipients'][0]}, ")
        links = re.findall(r"(?:https?://|www\.)\S+", copy["text"])
        assert len(links) == len(re.findall(r"(?:https?://|www\.)\S+", was["text"]))
        assert all(re.search(r"[?&]r=[0-9a-f]{8}$", link) for link in links)
        assert links or re.search(r" ref [0-9a-f]{8}$", copy["text"])
    chat = [c["text"] for w, c in zip(warm, cold, strict=True) if w.get("text") in
            simulated.hams]
    assert chat and not set(chat) & set(simulated.hams)


@needs_chat
def test_a_cold_run_decodes_the_records_a_warm_one_keeps() -> None:
    """``record_encode.caught`` runs any load at any batch: with no record kept, events of
    senders met in an earlier batch decode theirs; as kept, none does."""
    lines = cold_instructions.cold_load(30, 1)[:400]
    _, cold, events = record_encode.caught(lines, 0, 50)
    _, warm, _ = record_encode.caught(lines, None, 50)
    assert events == 400 and cold > 20 and warm == 0


def test_the_judge_split_counts_a_new_texts_band_keys_and_a_records_decoding() -> None:
    """The cold split's own steps are named in the split (each its own C function)."""
    named = {(holder, attribute) for _, holder, attribute in judge_split.STEPS}
    assert ("module:spimguard.detectors.bulk", "_keys") in named
    assert ("module:spimguard.detectors.takeover.record", "decode") in named


def test_a_new_texts_pairs_are_mixed_without_a_python_call_a_pair() -> None:
    """A text's pairs are mixed in one integer (``bulk._mixed``), not by a function a pair
    (session 43's ``_pair_hash``), and the least values taken by numpy's reduction, not
    through ``ndarray.min``'s Python function: the same frames at 5 words and at 50."""
    band_keys(["warm", "the", "permutations", "and", "parts"], 6, 5)
    short = _frames(functools.partial(band_keys, [f"short{i}" for i in range(5)], 6, 5))
    long = _frames(functools.partial(band_keys, [f"long{i}" for i in range(50)], 6, 5))
    assert short == long == ["band_keys", "_mixed", "<listcomp>", "<listcomp>"]


def _fmix(pair: str) -> int:
    """MurmurHash3's 32-bit finalizer of a pair's CRC-32, as datasketch mixes it."""
    hashed = zlib.crc32(pair.encode())
    hashed ^= hashed >> 16
    hashed = hashed * 0x85EBCA6B & 0xFFFFFFFF
    hashed ^= hashed >> 13
    hashed = hashed * 0xC2B2AE35 & 0xFFFFFFFF
    return hashed ^ hashed >> 16


@pytest.mark.parametrize("size", [2, 3, 11, 64, 500])
def test_the_lanes_mix_each_pair_as_the_finalizer_does(size: int) -> None:
    """Every lane is its own pair's hash, whatever its neighbours' (all bits set, none, any
    script, words of any length): no bit of one lane reaches another."""
    rng = random.Random(size)
    vocabulary = ["a", "ü" * 40, "привет", "<name>", "w" * 300, "日本", "0", "x_y", "-."]
    words = [rng.choice(vocabulary) + str(rng.randrange(10**9)) for _ in range(size)]
    mixed = bulk._mixed(words)
    assert mixed.dtype.kind == "u" and mixed.dtype.itemsize == 8  # a lane each (bands45)
    assert mixed.tolist() == [_fmix(f"{x} {y}") for x, y in itertools.pairwise(words)]


def test_a_word_without_a_letter_or_digit_is_found_as_the_expression_found_it() -> None:
    """``str.strip`` of ``_WORD``'s marks leaves nothing of exactly the words in which
    ``[^\\W_]`` (a letter or a digit of any script) finds nothing."""
    alnum = re.compile(r"[^\W_]")
    odd = ["_", "__", "-._-", "<>", "#@", "²", "_٣_", "ǅ", "ⅷ", "_a", "a_", "·", "‿", "〇",
           "—", "x", "-", ".", "..."]
    rng = random.Random(44)
    words = [*odd, *("".join(rng.choice([*odd, "_", "-", "."]) for _ in range(3))
                     for _ in range(500))]
    found = [w for text in words for w in bulk._WORD.findall(text)]
    assert found
    assert [not w.strip(bulk._MARKS) for w in found] == [alnum.search(w) is None
                                                       for w in found]
