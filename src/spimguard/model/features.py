"""Hashed features of a message that survive what spimmers do to text.

Four families, each hashed with its own seed into one space of 2**bits buckets
(the "hashing trick": fixed memory, any script, no vocabulary to ship):

- character 2–5-grams of the skeleton (homoglyphs, accents, leetspeak and
  zero-width characters already folded, so "FR33 r1ngt0nes" and "free ringtones"
  share their n-grams);
- character 1–3-grams of the cleaned, case-folded text (keeps what the skeleton
  folds away: the script, mixed Latin/Cyrillic words, emoji, currency signs);
- skeleton word unigrams and bigrams;
- a few shape tokens: links and their registrable domains, phone-like digit
  runs, money, shouting, length.

A message's vector is binary and unit length: x_b = 1/sqrt(U) for each of its U
distinct buckets. Binary beat counts in 5-fold CV on UCI (spam recall at 0.1 %
of ham held: 93.9 % against 91.4 %): a pitch repeated three times in one
message is no more spam than once.

Character n-grams are hashed in numpy: a polynomial hash over the UTF-32 code
points (Σ c_k·P**(n-1-k), wrapping at 2**32) for every n at once, then a
multiplicative mix; words use CRC-32. Both are stable
across processes and machines (Python's own ``hash`` is salted per process).
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from ..text import MessageView

BITS = 20
_P = np.uint32(0x01000193)
_MIX = np.uint32(0x9E3779B1)
# Words of UTF-8 text: ASCII word characters, and any non-ASCII byte (letters of
# other scripts, emoji), so one bytes pattern serves every script.
_WORD = re.compile(rb"[\w\x80-\xff]+")
_DIGIT = re.compile(r"\d")
_PHONE = re.compile(r"\d[\d\s().-]{6,}\d")
_MONEY = re.compile(r"[$£€¥₹₽]|\b(?:usd|eur|gbp|rp|rs|руб)\b", re.IGNORECASE)


# Column n-2 of _POWERS holds P**(n-1) ... P**0 in its first n rows: one matrix
# product hashes every 2- to 5-gram at every position at once.
_POWERS = np.zeros((5, 4), dtype=np.uint32)
for _n in range(2, 6):
    for _k in range(_n):
        _POWERS[_k, _n - 2] = pow(0x01000193, _n - 1 - _k, 2**32)
_SEEDS = np.array([0x2545F491, 0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35], dtype=np.uint32)


def _char_ngrams(raw: bytes, rows: int, shift: np.uint32) -> np.ndarray:
    """Polynomial hashes (mod 2**32) of every 2- to 5-gram, mixed into buckets.

    ``raw`` is UTF-32 text padded with four spaces; its overlapping (rows, 5)
    windows are viewed straight over the bytes (no copy, and none of the argument
    checks of sliding_window_view, which cost more than the hashing here).
    """
    if rows < 1:
        return np.empty(0, dtype=np.uint32)
    windows = np.ndarray((rows, 5), dtype=np.uint32, buffer=raw, strides=(4, 4))
    return ((((windows @ _POWERS) ^ _SEEDS) * _MIX) >> shift).ravel()


def _word_hashes(skeleton: bytes) -> np.ndarray:
    """CRC-32 of each word of the UTF-8 skeleton, then of each pair of neighbours."""
    words = np.array(list(map(zlib.crc32, _WORD.findall(skeleton))), dtype=np.uint32)
    pairs = (words[:-1] * _P) ^ words[1:] ^ np.uint32(0x5BD1E995)
    return np.concatenate((words, pairs))


def _token_buckets(tokens: list[str], shift: np.uint32) -> np.ndarray:
    hashed = np.array([zlib.crc32(t.encode("utf-8", "surrogatepass"), 4) for t in tokens],
                      dtype=np.uint32)
    return (hashed * _MIX) >> shift


def shape_tokens(view: MessageView) -> list[str]:
    tokens = [f"dom:{d}" for d in view.domains]
    if view.urls:
        tokens.append(f"urls:{min(len(view.urls), 3)}")
    text = view.text
    if _DIGIT.search(text) and _PHONE.search(text):
        tokens.append("phone")
    if _MONEY.search(text):
        tokens.append("money")
    if text != text.lower():
        upper = sum(map(str.isupper, text))
        if upper >= 8 and upper * 3 > len(text):
            tokens.append("shouting")
    tokens.append(f"len:{min(len(text) // 40, 8)}")
    return tokens


def buckets(view: MessageView, bits: int = BITS) -> np.ndarray:
    """The message's distinct feature buckets (sorted uint32)."""
    shift = np.uint32(32 - bits)
    folded = view.text.casefold()
    # The cleaned text adds information only where the skeleton folded something
    # away; for most messages the two are equal and it is hashed once.
    stream = f" {view.skeleton} " if folded == view.skeleton else (
        f" {view.skeleton} \x01 {folded} ")
    raw = (stream + "    ").encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(raw, dtype=np.uint32)
    words = (_word_hashes(view.skeleton.encode("utf-8", "surrogatepass")) * _MIX) >> shift
    found = np.concatenate((_char_ngrams(raw, len(points) - 4, shift), words,
                            _token_buckets(shape_tokens(view), shift)))
    found.sort()
    # Sort and drop repeats: np.unique does the same at several times the cost.
    return found[np.concatenate(([True], found[1:] != found[:-1]))]
