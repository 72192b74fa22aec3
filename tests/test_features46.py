"""A new text's features for less, every feature the same (session 46, ``features46``).

The cuts: a message's two word lists from one ``translate`` and ``split`` (``_words``),
a batch's (message, bucket) keys built in place (``_batch_keys``), shape's tests of an
ASCII text on its bytes, and cues' phrases as a tree of their letters (``cues._tree``).
Each is held here against the form it replaced, over hostile texts, and a batch against
its messages hashed alone.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from spimguard.model import cues as cue_module
from spimguard.model import features
from spimguard.text import _view

_HOSTILE = [
    "", " ", "\u200b" * 12, "a\u200bb\u200cc\u200dd\ufeff", "e\u0301\u0302\u0303" * 40,
    "\u0301 starts with a mark", "\u202eoverride\u202c and \u2067isolate\u2069",
    "مرحبا بك في المجموعة 100 $", "שלום \u200fעולם\u200e RS 500", "x" * 65536,
    ("word " * 13108)[:65536], "😀" * 16384, "I got the tickets!", "lol that's exactly what I said",
    "FREE CASH NOW, CLAIM YOUR PRIZE", "RS 500 now", "Rs", "rs_", "_rs", "5rs", "rs5 rs", "uſd 20",
    "usd.", "$", "a$b", "EUR", "gbp!", "руб 100", "100 ₽", "£5", "call 0812-3456-7890 now",
    "12345", "1", "İı ſ K ß ﬁ ΣΑΣ", "\ud800lone\udfff surrogates", "a pair \ud83d\ude00 of them",
    "\x00\x01\x1c\x1d\x1e\x1f",
    "tab\there\nnewline\r\x0b\x0c", "act now", "exact nowhere", "write to me in private",
    "t.me/join t.me x", "ทักแชท ทัก", "เครดิตฟรี 100 บาท", "пишите в лс, напиши в",
    "空投 airdrop: claim 500 USDT now ✅🚀", "ＦＵＬＬＷＩＤＴＨ ＦＲＥＥ", "F R E E  m o n e y",
    "a", "ab", "abcd", "a b c d e f", "__init__", "don't_stop-me", "café naïve", "Нaбuрaю",
]


def _texts() -> list[str]:
    """The hostile texts, and seeded mixes of their pieces."""
    rng = random.Random(46)
    pieces = [piece for text in _HOSTILE if len(text) < 200 for piece in text.split()] or ["x"]
    mixes = [rng.choice(["", " ", ".", "-"]).join(rng.choice(pieces)
                                                  for _ in range(rng.randint(1, 12)))
             for _ in range(600)]
    return list(dict.fromkeys(_HOSTILE + mixes))


TEXTS = _texts()
_OLD_WORD = re.compile(rb"[\w\x80-\xff]+")  # the hashed words' pattern before ``_words``


def test_words_are_the_patterns_words() -> None:
    """``_words``: the skeleton's ``\\w+`` words and its UTF-8's ``[\\w\\x80-\\xff]+``
    runs, as the two findalls gave them, for every text (ASCII or not)."""
    for text in TEXTS:
        skeleton = _view(text).prose_skeleton
        for probe in (skeleton, text):
            assert features._words(probe) == (
                features._ANY_WORD.findall(probe),
                _OLD_WORD.findall(probe.encode("utf-8", "surrogatepass"))), probe[:80]


def _old_shape(text: str) -> list[str]:
    """``shape_tokens`` of a prose as the patterns gave it before this pass."""
    tokens = []
    if re.search(r"\d", text) and features._PHONE.search(text):
        tokens.append("phone")
    if features._MONEY.search(text):
        tokens.append("money")
    if not text.islower() and len(text) >= 8:
        upper = len(text) - len(re.sub("[^A-Z]+", "", text)) if text.isascii() else sum(
            map(str.isupper, text))
        if upper >= 8 and upper * 3 > len(text):
            tokens.append("shouting")
    tokens.append(f"len:{min(len(text) // 40, 8)}")
    return tokens


def test_shape_on_an_ascii_texts_bytes_is_the_patterns() -> None:
    """Digits, money and capitals of an ASCII text on its bytes give what the patterns
    did, the case-blind money words at a word's edges and inside one included."""
    for text in TEXTS:
        view = _view(text)
        assert features.shape_tokens(view) == _old_shape(view.prose), text[:80]
    assert "money" in features.shape_tokens(_view("RS 500 now"))
    assert "money" not in features.shape_tokens(_view("rs5 and _rs and 5rs"))
    assert "shouting" in features.shape_tokens(_view("I got the tickets!"))  # base's count


@pytest.mark.parametrize("seed", range(4))
def test_a_tree_of_phrases_finds_what_any_of_them_would(seed: int) -> None:
    """``cues._tree``: over random phrase lists that share beginnings, hold one another and
    single letters, and over the cue tables, a search finds something exactly where some
    phrase is in the text."""
    rng = random.Random(seed)
    alphabet = "ab .$-\u0e17\u0e31"
    for _ in range(200):
        phrases = list(dict.fromkeys(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
            for _ in range(rng.randint(1, 12))))
        pattern = re.compile(cue_module._tree(phrases))
        for _ in range(20):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            assert (pattern.search(text) is not None) == any(p in text for p in phrases), (
                phrases, text)
    tables = cue_module._tables()
    for text in TEXTS:
        folded = _view(text).prose.casefold()
        assert (tables.any_phrase.search(folded) is not None) == any(
            phrase in folded for phrase, _ in tables.phrases), text[:80]


def test_a_batch_gives_each_hostile_text_what_it_has_alone() -> None:
    """The hostile texts together (in one batch, in batches of 2 and 7, and one text
    amid empty ones, where a batch's pairs and windows meet their neighbours') and alone:
    the same buckets and teachable buckets, byte for byte, and ``batch_buckets`` the
    same as ``buckets``."""
    views = [_view(text) for text in TEXTS]
    rng = random.Random(7)
    messages = [(view, tuple(n for n in (rng.choice(view.prose_skeleton.split()),)
                             if rng.random() < 0.2) if view.prose_skeleton.split() else ())
                for view in views]
    alone = [features._hashed_parts([message], features.BITS)[0] for message in messages]
    for found, teachable in alone:
        assert found.dtype == teachable.dtype == np.uint32
    for size in (len(messages), 2, 7):
        together = [part for start in range(0, len(messages), size)
                    for part in features._hashed_parts(messages[start:start + size],
                                                       features.BITS)]
        assert [(a.tobytes(), b.tobytes()) for a, b in together] == [
            (a.tobytes(), b.tobytes()) for a, b in alone], size
    empty = (_view(""), ())
    for message, (found, teachable) in list(zip(messages, alone, strict=True))[:60]:
        got = features._hashed_parts([empty, message, empty], features.BITS)[1]
        assert got[0].tobytes() == found.tobytes() and got[1].tobytes() == teachable.tobytes()
    for view in views[:40]:  # a batch of one: no message after it, no pair across
        docs, found = features.batch_buckets([view])
        assert not docs.any() and found.tobytes() == features.buckets(view).tobytes()
    docs, found = features.batch_buckets(views)
    for at, view in enumerate(views):
        assert found[docs == at].tobytes() == features.buckets(view).tobytes(), TEXTS[at][:80]


def test_keys_past_32_bits_give_the_same_parts() -> None:
    """4,097 messages at 20 bits: their keys no longer fit 32 bits (``_key_type``), and
    each message's parts are still its own."""
    assert features._key_type(4096, 20) is np.uint32
    assert features._key_type(4097, 20) is np.int64
    views = [_view(f"{TEXTS[at % len(TEXTS)][:300]} {at}") for at in range(4097)]
    together = features._hashed_parts([(view, ()) for view in views], features.BITS)
    for at in range(0, 4097, 97):
        assert together[at][0].tobytes() == features.buckets(views[at]).tobytes(), at
    assert together[-1][0].tobytes() == features.buckets(views[-1]).tobytes()
