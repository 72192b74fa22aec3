"""Hashed features of a message that survive what spimmers do to text.

Four families, each hashed with its own seed into one space of 2**bits buckets
(the "hashing trick": fixed memory, any script, no vocabulary to ship):

- character 2–5-grams of the skeleton (homoglyphs, accents, leetspeak and
  zero-width characters already folded, so "FR33 r1ngt0nes" and "free ringtones"
  share their n-grams) and, where it differs, of the cleaned, case-folded text
  (it keeps what the skeleton folds away: the script, mixed Latin/Cyrillic
  words, emoji, currency signs);
- skeleton word unigrams and bigrams;
- a few shape tokens: phone-like digit runs, money, shouting, length;
- cross-platform cue tokens and the message's script (``cues``): what a pitch
  does on any platform, in any language. They train the model but are not
  taught by reports: a wave's script and cue count are those of every
  message in its language.

All of it over the message's *prose*, links taken out: the training sets are
SMS from before people shared links, where a link meant spam, and friends share
links all day. Links are the links and reputation detectors' job. A message's
domains do join the features that user reports teach (``parts``): a campaign's
domain is what names it best.

A message's vector is binary and unit length: x_b = 1/sqrt(U) for each of its U
distinct buckets. Binary beat counts in 5-fold CV on UCI (spam recall at 0.1 %
of ham held: 93.9 % against 91.4 %): a pitch repeated three times in one
message is no more spam than once.

Character n-grams are hashed in numpy: a polynomial hash over the UTF-32 code
points (Σ c_k·P**(n-1-k), wrapping at 2**32, by Horner's rule), then a
multiplicative mix; words use CRC-32. Both are stable
across processes and machines (Python's own ``hash`` is salted per process).
"""

from __future__ import annotations

import hashlib
import operator
import re
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import chain, compress, pairwise, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from ..kept import UNKEPT, touched
from ..lists import well_known
from ..text import CACHED_CHARS, MessageView, _view
from .cues import DENSE, WORD_BYTES, cues

BITS = 20
# Raise on any deliberate change to what a message hashes to. ``stamp`` also
# hashes the features of ``_PROBES``, so a change in ``text`` that alters them
# is caught without anyone remembering to raise this.
FEATURE_VERSION = 2
_PROBES = (
    "Hi, are we still on for lunch tomorrow at 12:30?",
    "FREE entry!! Text WIN to 80086 to claim your £1000 prize now",
    "FR33 r1ngt0nes, cl1ck h e r e: bit.ly/x9Zq and www.example.com/login?id=7",
    "Нaбuрaю в кoмaндy пaртнeрoв, дoxoд от 5000 ₽ в день, пишите в лс @manager_job",
    "Selamat! Anda mendapatkan hadiah Rp 5.000.000, hubungi 0812-3456-7890",
    "เครดิตฟรี 100 บาท สมัครเลย line.me/ti/p/abc",
    "空投 airdrop: claim 500 USDT now ✅🚀 connect wallet",
    "café naïve CAFÉ ＦＵＬＬＷＩＤＴＨ z​ero​width s.p.a.c.e.d",
    "F R E E  r i n g t o n e s\u2800 n o w, U S A",  # spaced out, and initials
    "请看tones-shop.com很好 สมัครเลยline.me/x paypal.com@tones-shop.com/x",  # glued links
    "ᴛʜᴇ ʀɪᴄʜ ᴘᴀʀᴋ 🅕🅡🅔🅔 ⒡⒭⒠⒠",  # fancy text: small capitals, letters in frames
    "doors 10:30pm on the 1st, 3rd and 11th, x2 points",  # figures with their unit
    "",
)
_P = np.uint32(0x01000193)
_MIX = np.uint32(0x9E3779B1)
_P_INT = int(_P)
Parts = tuple[np.ndarray, np.ndarray]  # (buckets, teachable buckets): ``batch_parts``
# Words of UTF-8 text: runs of ASCII word characters and non-ASCII bytes (letters of other
# scripts, emoji), so one rule serves every script. Found by ``bytes.translate`` of every
# other byte to a blank (``cues.WORD_BYTES``) and ``split``, in C (``_words``): the runs
# ``rb"[\w\x80-\xff]+"`` finds, where that pattern's scan cost ~16,000 instructions a text.
_DIGIT = re.compile(r"\d")
_PHONE = re.compile(r"\d[\d\s().-]{6,}\d")
_MONEY = re.compile(r"[$£€¥₹₽]|\b(?:usd|eur|gbp|rp|rs|руб)\b", re.IGNORECASE)
# ``_DIGIT`` and ``_MONEY`` on a text of ASCII, and its capitals (``shape_tokens``).
_DIGITS = b"0123456789"
_MONEY_WORDS = frozenset([b"usd", b"eur", b"gbp", b"rp", b"rs"])
_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_LOWERED = WORD_BYTES.translate(bytes.maketrans(_UPPER, _UPPER.lower()))  # and A-Z made a-z


_SEEDS = np.array([0x2545F491, 0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35], dtype=np.uint32)
_SEED_COLUMN = _SEEDS[:, None]  # an n-gram length's seed for its row of ``_gram_hashes``
_MASK = 0xFFFFFFFF
_PAIRED = 0x5BD1E995  # mixed into a pair of neighbouring words' hash


def _gram_hashes(windows: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The 2-, 3-, 4- and 5-gram hashes starting at each of the (rows, 5) ``windows``, each
    length's seed mixed in, as the rows of ``out[1:]`` (``out``: (5, rows); its first row
    is left to the caller).

    Horner's rule down the five columns, h_n = h_(n-1)·P + c_n (mod 2**32), each length
    one contiguous row written in place, the seeds a column: every step runs down whole
    rows, and none is copied. ``small44`` measured the same integers as P**n · Σ c_k·P**-k
    (a product by the inverse powers, one running sum, a product by the powers: three
    numpy calls for eight): ~20,000 instructions fewer for a text hashed alone, but
    ``np.add.accumulate`` down five rows of a batch costs more a row (+11,000 a new text
    at batches of 500), and both paths share this function. A product by a matrix of
    powers would be one call, but numpy's integer matmul is a plain loop, fourteen times
    slower a row.
    """
    hashed = out[1:]
    before = windows[:, 0]
    for n, row in enumerate(hashed, 1):
        np.multiply(before, _P, out=row)
        row += windows[:, n]
        before = row
    hashed ^= _SEED_COLUMN
    return hashed


def _windows(raw: bytes, rows: int) -> np.ndarray:
    """The (rows, 5) overlapping windows of UTF-32 ``raw``, viewed straight over its bytes
    (no copy, and none of the argument checks of sliding_window_view, which cost more
    than the hashing here)."""
    return np.ndarray((rows, 5), dtype=np.uint32, buffer=raw, strides=(4, 4))


def _crcs(tokens: list[str], seed: int) -> Iterator[int]:
    """CRC-32 of each token's UTF-8 (surrogates passed), from ``seed``: both steps by
    ``map`` in C, no Python frame a token (a comprehension's was most of the cost)."""
    encoded = map(str.encode, tokens, repeat("utf-8"), repeat("surrogatepass"))
    return map(zlib.crc32, encoded, repeat(seed))


def _crc32s(tokens: list[str], seed: int) -> np.ndarray:
    """``_crcs`` as an array, for a batch's many tokens."""
    return np.fromiter(_crcs(tokens, seed), dtype=np.uint32, count=len(tokens))


def _word_crcs(words: list[bytes]) -> np.ndarray:
    """CRC-32 (seed 0) of each of ``words``, as an array."""
    return np.fromiter(map(zlib.crc32, words), dtype=np.uint32, count=len(words))


class _TokenCrcs(dict[str, int]):
    """Tokens' CRC-32 (seed 4) by look-up: the shape and cue tokens are a few dozen strings,
    each a text's encoding and hash where a dict's look-up is a fraction of either. Any
    other token (a domain's ``dom:``) is hashed where asked and not kept: hostile domains
    must not fill memory."""

    def __missing__(self, token: str) -> int:
        return zlib.crc32(token.encode("utf-8", "surrogatepass"), 4)


_TOKEN_CRCS = _TokenCrcs({token: zlib.crc32(token.encode(), 4) for token in (
    "phone", "money", "shouting", *(f"len:{n}" for n in range(9)), *DENSE)})


def _token_buckets(tokens: list[str], shift: np.uint32) -> np.ndarray:
    crcs = np.fromiter(map(_TOKEN_CRCS.__getitem__, tokens), dtype=np.uint32,
                       count=len(tokens))
    return (crcs * _MIX) >> shift


def shape_tokens(view: MessageView) -> list[str]:
    """Why a text of ASCII (three in four) is tested on its bytes: there ``_DIGIT`` finds
    a byte of ``_DIGITS``; ``_MONEY`` a "$" or a whole word (a run of ``[0-9A-Za-z_]``,
    which its word boundaries bound) that is one of ``_MONEY_WORDS`` in any case (its
    other signs, and the case-blind matches of its letters, "ſ" for "s", are not ASCII);
    and ``re.sub("[^A-Z]+", "", text)`` kept the bytes of ``_UPPER``. ``translate`` and
    ``split`` in C, where the patterns tried each position (``tests/test_features46.py``
    holds the two ways equal)."""
    tokens = []
    text = view.prose
    if text.isascii():
        raw = text.encode("ascii")
        digits = len(raw.translate(None, _DIGITS)) < len(raw)
        money = b"$" in raw or not _MONEY_WORDS.isdisjoint(raw.translate(_LOWERED).split())
    else:
        digits = _DIGIT.search(text) is not None
        money = _MONEY.search(text) is not None
    if digits and _PHONE.search(text):
        tokens.append("phone")
    if money:
        tokens.append("money")
    if not text.islower() and len(text) >= 8:
        # Of a text of ASCII, what is *not* a capital, as ``len(text) -
        # len(re.sub("[^A-Z]+", "", text))`` counted it since ``ec9b2fdd`` (so "I got the
        # tickets!" shouts): kept, as every bucket must be (``features46``'s write-up).
        upper = len(raw.translate(None, _UPPER)) if text.isascii() else sum(
            map(str.isupper, text))
        if upper >= 8 and upper * 3 > len(text):
            tokens.append("shouting")
    tokens.append(f"len:{min(len(text) // 40, 8)}")
    return tokens


def _teachable_words(words: list[str]) -> list[str]:
    """Of a text's ``words`` (``_ANY_WORD``'s), those of four or more letters, and
    neighbour pairs with at least one such word.

    Short words are mostly a language's function words ("в", "что", "the"):
    they run through a whole spam wave, so learning them from reports would
    mark every message in that language.
    """
    chosen = [w for w in words if len(w) >= _TAUGHT_LETTERS]
    # A crude stem (the first five letters) so that inflected forms teach each
    # other: "доходом", "дохода" -> "доход".
    chosen += [f"{w[:_STEM_LETTERS]}~" for w in chosen if len(w) > _STEM_LETTERS]
    chosen += [f"{a} {b}" for a, b in pairwise(words)
               if len(a) >= _TAUGHT_LETTERS or len(b) >= _TAUGHT_LETTERS]
    return chosen


_TAUGHT_LETTERS = 4  # a teachable word's fewest letters
_STEM_LETTERS = 5  # a stem's letters, of a word longer than that


def _teachable_crcs(words: list[str], encoded: list[bytes], counts: list[int],
                    plain: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(CRC-32s on seed 7, their messages' indices) of ``_teachable_words`` of a batch's
    messages, whose words (``words``, their UTF-8 ``encoded``, its CRC-32s on seed 0
    ``plain`` where the caller has them) are one list, ``counts[i]`` of them the ``i``-th
    message's. In no particular order (the caller sorts).

    Why not the words' strings: a pair's string "a b" was made and encoded only to be
    hashed. CRC-32 is affine over GF(2) (``_seeded``): a word's CRC on seed 7 is its CRC on
    seed 0 (``_batch_keys`` hashes a text of ASCII's words so) and a constant of its
    length, and the pair's is b's on seed 0 and two terms of a's CRC and b's length, so
    the batch's are a few numpy calls where ``zlib.crc32`` was called three times a word.
    The teachable ones (not two messages' pairs, not two short words) are kept by a mask.
    Only the stems' strings are made."""
    if plain is None:
        plain = _word_crcs(encoded)
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    crcs, pairs = _seeded(plain, sizes, encoded)
    owners = np.repeat(np.arange(len(counts)), counts)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    long = lengths >= _TAUGHT_LETTERS
    stemmed = lengths > _STEM_LETTERS
    paired = long[1:] | long[:-1]
    firsts = np.cumsum(counts[:-1], dtype=np.int64)  # a later message's first word
    paired[firsts[(firsts > 0) & (firsts < len(words))] - 1] = False
    stems = [f"{w[:_STEM_LETTERS]}~" for w in compress(words, stemmed.tolist())]
    return (np.concatenate((crcs[long], _crc32s(stems, 7),
                            pairs[paired])),
            np.concatenate((owners[long], owners[stemmed], owners[:-1][paired])))


# Bytes of a word up to which its CRCs on seed 7 are derived by ``_zero_rows``; a longer
# one's (a few of a hostile text's, none of most) are ``zlib.crc32``'s, as before.
_ZEROS = 64
_BYTE_ROWS = np.arange(0, 1024, 256)  # each byte of a register's row in ``_zero_rows``
_BLANK = zlib.crc32(b" ")


@lru_cache(maxsize=1)
def _zero_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Z, ``_after_zeros(7, n)``, ``_after_zeros(crc32(b" "), n)``) for n up to ``_ZEROS``.

    Z is flat, 1,024 values an n: ``Z[1024·n + 256·k + v]`` is the register ``v << 8k``
    after n zero bytes. CRC-32's register takes a byte by ``r -> (r >> 8) ^ T[(r ^ b) &
    0xFF]`` with T linear, so after n zero bytes it is a linear map L_n of its start, and a
    map of 32 bits is the XOR of its four bytes' images; zlib's inversions at either end
    cancel in ``crc32(w, s) ^ crc32(w, 0) = L_|w|(s)``. Row n is row n-1 stepped by one
    zero byte: ~70 numpy calls once a process, ~270 KB."""
    step = np.array([zlib.crc32(b"\0", v) ^ zlib.crc32(b"\0") for v in range(256)],
                    dtype=np.uint32)
    rows = np.empty((_ZEROS + 2, 4, 256), dtype=np.uint32)
    rows[0] = np.arange(256, dtype=np.uint32) << np.arange(0, 32, 8, dtype=np.uint32)[:, None]
    for n in range(1, _ZEROS + 2):
        rows[n] = (rows[n - 1] >> 8) ^ step[rows[n - 1] & 0xFF]
    flat = rows.ravel()
    lengths = np.arange(_ZEROS + 2)
    return (flat, rows[:, 0, 7].copy(),
            _after_zeros(flat, np.full(_ZEROS + 2, _BLANK, dtype=np.uint32), lengths))


def _after_zeros(rows: np.ndarray, starts: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """L_n(s) (``_zero_rows``) of each register ``starts`` (contiguous) and count of zero
    bytes ``zeros`` (up to ``_ZEROS`` + 1): its four bytes' images gathered and XORed."""
    at = starts.astype("<u4", copy=False).view(np.uint8).reshape(-1, 4) + _BYTE_ROWS
    at += (zeros << 10)[:, None]
    return np.bitwise_xor.reduce(rows[at], axis=1)


def _seeded(plain: np.ndarray, sizes: np.ndarray,
            encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(``zlib.crc32(w, 7)`` of each word w of ``encoded``, ``zlib.crc32(a + b" " + b, 7)``
    of each pair of neighbours a, b) from the words' CRCs on seed 0 (``plain``) and their
    lengths in bytes (``sizes``).

    ``crc32(w, s) = crc32(w, 0) ^ L_|w|(s)`` (``_zero_rows``), so a word's is ``plain ^
    L_|w|(7)``, a constant of its length; and chaining, ``crc32(a + b" " + b, 7) =
    crc32(b, 0) ^ L_|b|(crc32(b" ", 0)) ^ L_(|b|+1)(crc32(a, 7))``: two look-ups by length
    and one map applied. Tables end at ``_ZEROS`` bytes (a longer word's row is read for
    ``_ZEROS``, then its CRC and its pairs' taken by ``zlib.crc32``): every array here is
    of the batch's words, and the work is linear in them."""
    rows, sevens, blanks = _zero_rows()
    over = np.flatnonzero(sizes >= _ZEROS)
    within = np.minimum(sizes, _ZEROS) if len(over) else sizes
    crcs = plain ^ sevens[within]
    after = within[1:]
    if len(over):
        crcs[over] = list(map(zlib.crc32, map(encoded.__getitem__, over.tolist()), repeat(7)))
    pairs = plain[1:] ^ blanks[after] ^ _after_zeros(rows, crcs[:-1], after + 1)
    late = over[over > 0]  # pairs whose second word is long
    if len(late):
        pairs[late - 1] = list(map(zlib.crc32, map(encoded.__getitem__, late.tolist()),
                                   map(zlib.crc32, repeat(b" "), crcs[late - 1].tolist())))
    return crcs, pairs


def distinct(found: np.ndarray) -> np.ndarray:
    """The distinct values of ``found``, sorted (in place: ``found`` is the caller's own).
    A sort and a mask: np.unique does the same at several times the cost. The mask is
    applied by ``np.compress`` (the kept indices, then a gather): a boolean index copies
    each run of kept values by a call of its own, and a batch's sorted keys alternate
    kept and dropped every few values (~27 instructions a value against ~17)."""
    found.sort()
    return np.compress(np.concatenate((_FIRST, found[1:] != found[:-1])), found
                       ) if len(found) else found


_FIRST = np.ones(1, dtype=bool)  # the first of the sorted values is always distinct


def _stream(view: MessageView, folded: str | None = None) -> bytes:
    """The UTF-32 of ``_stream_text``."""
    return _stream_text(view, folded).encode("utf-32-le", "surrogatepass")


def _stream_text(view: MessageView, folded: str | None = None) -> str:
    """The text whose character n-grams are hashed, padded with four spaces; ``folded``
    is the prose casefolded, where the caller has it (``_hashed_parts``: ``cues`` reads
    it too, and a fold walks the text and makes a string).

    The cleaned text adds information only where the skeleton folded something
    away; for most messages the two are equal and it is hashed once.
    """
    if folded is None:
        folded = view.prose.casefold()
    return (f" {view.prose_skeleton}     " if folded == view.prose_skeleton else
            f" {view.prose_skeleton} \x01 {folded}     ")


def _words(skeleton: str) -> tuple[list[str], list[bytes]]:
    """(``_ANY_WORD``'s words of ``skeleton``, the words of its UTF-8 that are hashed): one
    scan of the text for both where it is ASCII (most are), where the two are the same
    runs of ``[0-9A-Za-z_]``; ``_ANY_WORD``'s findall only for the others (Unicode's word
    characters). Each by ``translate`` and ``split`` in C, not a regex's match a word."""
    blanked = skeleton.encode("utf-8", "surrogatepass").translate(WORD_BYTES)
    return (blanked.decode("ascii").split() if skeleton.isascii()
            else _ANY_WORD.findall(skeleton)), blanked.split()


def _own_parts(view: MessageView, named: list[str],
               taught: tuple[list[str], list[bytes] | None, list[str]],
               coarse: list[bytes], shift: np.uint32, folded: str | None = None) -> Parts:
    """``_hashed_parts`` of one message whose ``shape_tokens`` and ``cues`` are ``named``,
    whose ``_taught`` words and tokens are ``taught`` and whose hashed words (``_words``)
    are ``coarse``: the batch's integers, in a third of its numpy calls.

    Why a path of its own: the server's group commit hands the engine batches of one to a
    few, and a message hashed alone paid ~50 numpy calls of ~4,000 instructions each
    whatever its length (a new text's features cost 526,000 instructions alone against
    322,000 in batches of 500). Here all but its character n-grams (its words, their
    pairs, its tokens and teachable words: a few dozen values) are hashed in Python ints
    (CRC-32 in C; a pair's product masked to 32 bits, as uint32 wraps), into one buffer
    with the n-grams (``_gram_hashes``): one mix, and one comparison for the distinct
    values of both sets (``_two_distinct``)."""
    raw = _stream(view, folded)
    rows = len(raw) // 4 - 4
    words = list(map(zlib.crc32, coarse))
    hashed = [*words, *[((a * _P_INT) & _MASK) ^ b ^ _PAIRED for a, b in pairwise(words)],
              *map(_TOKEN_CRCS.__getitem__, named)]
    cut = 4 * rows + len(hashed)  # the trained buckets, then the teachable ones
    hashed += _crcs(_teachable_words(taught[0]), 7)
    hashed += map(_TOKEN_CRCS.__getitem__, taught[2])
    flat = np.empty(5 * rows + len(hashed), dtype=np.uint32)
    _gram_hashes(_windows(raw, rows), flat[:5 * rows].reshape(5, rows))
    flat[5 * rows:] = hashed
    mixed = flat[rows:]  # the first of the n-grams' rows is their running sum's scratch
    mixed *= _MIX
    mixed >>= shift
    return _two_distinct(mixed, cut)


def _two_distinct(values: np.ndarray, cut: int) -> Parts:
    """(``distinct`` of ``values[:cut]``, ``distinct`` of ``values[cut:]``), each sorted in
    place: one comparison and one mask for both."""
    first, second = values[:cut], values[cut:]
    first.sort()
    second.sort()
    keep = np.empty(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    keep[:1] = keep[cut:cut + 1] = True  # each part's first value
    return first[keep[:cut]], second[keep[cut:]]


def buckets(view: MessageView, bits: int = BITS) -> np.ndarray:
    """The message's distinct feature buckets (sorted uint32)."""
    return _own_parts(view, shape_tokens(view) + cues(view), ([], None, []),
                      _words(view.prose_skeleton)[1], np.uint32(32 - bits))[0]


def parts(view: MessageView, bits: int = BITS,
          names: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """One message's ``batch_parts``."""
    return batch_parts([(view, names)], bits)[0]


_CACHED_PARTS = 8192  # messages whose parts are kept (a few MB at most)
# By what the parts are made of (``_made_of``), not the whole view: a string keeps its
# hash (a view's is its ten fields' again at every lookup).
_parts_cache: dict[tuple[tuple[str, bool, tuple[str, ...]], int], Parts] = {}  # LRU first


def _made_of(view: MessageView) -> tuple[str, bool, tuple[str, ...]]:
    """What a view's parts are made of: its prose (and the prose's skeleton, made of it),
    whether it was spaced out (a cue) and its domains (teachable). Not its text alone:
    texts that read alike are one text ("w i n  a  p r i z e" is "win a prize", spaced),
    and keyed by text the spaced one took the plain one's parts, without the cue, from the
    cache and, since ``features46``, from a batch's first of them (review, session 46)."""
    return view.prose, view.spaced, view.domains


def batch_parts(messages: Sequence[tuple[MessageView, tuple[str, ...]]],
                bits: int = BITS) -> list[Parts]:
    """(``buckets``, distinct teachable buckets) of each (view, names) of ``messages``.

    The second set is what user reports teach (see ``online``): longer words,
    their pairs, domains and shape name a campaign; character n-grams and short
    words also describe its language, and well-known sites (``lists.well_known``)
    are in everyone's messages, so a stray report on one must not teach them.
    ``names`` (the recipients', ``text.names_of``) are left out of the teachable
    words: a pitch greets each victim by name, and learning the names would mark
    every later message that greets those people.

    Kept for short texts that greet none of their names (the view is a pure function
    of the text), the least recently used dropped first: chat repeats its short
    messages and spam its pitch, so identical texts are hashed once; long texts are
    not kept, so hostile input cannot fill memory. The others are hashed together
    (``_hashed_parts``): numpy's cost per call paid once for them all. The arrays are
    read-only."""
    out: list[Parts | None] = [None] * len(messages)
    # A batch's repeats found by what their parts are made of (``_made_of``), not by view:
    # the prose's hash is kept in the string (``kept_parts`` took it), where a new view's
    # is its fields' hashes taken afresh (~5 µs).
    todo: dict[tuple[tuple[str, bool, tuple[str, ...]], tuple[str, ...]],
               tuple[tuple[MessageView, tuple[str, ...]], list[int]]] = {}
    for at, (view, names) in enumerate(messages):
        kept = kept_parts(view, bits, names)
        if kept is not None:
            out[at] = kept
        else:
            greeted = tuple(filter(view.prose_skeleton.__contains__, names))  # in C
            todo.setdefault((_made_of(view), greeted), ((view, greeted), []))[1].append(at)
    hashed = _hashed_parts([message for message, _ in todo.values()], bits)
    for ((view, greeted), places), found in zip(todo.values(), hashed, strict=True):
        for at in places:
            out[at] = found
        if not greeted and len(view.text) <= CACHED_CHARS:
            if len(_parts_cache) >= _CACHED_PARTS:
                del _parts_cache[next(iter(_parts_cache))]
            _parts_cache[_made_of(view), bits] = found
    return out  # type: ignore[return-value]


def kept_parts(view: MessageView, bits: int, names: tuple[str, ...]) -> Parts | None:
    """``batch_parts``' answer for one message when it is kept (its text greets none of its
    ``names`` and was hashed before; it is then the most recently used), else None: the
    one look-up of the kept parts, ``batch_parts``' for each of its messages too."""
    if any(map(view.prose_skeleton.__contains__, names)):
        return None
    kept = touched(_parts_cache, (_made_of(view), bits))
    return None if kept is UNKEPT else kept


# Messages up to which a batch's are hashed each by itself (``_hashed_parts``): where the
# batch's fixed cost, shared, falls below a message's own numpy calls. Measured by
# callgrind, instructions a new text (``benchmarks/text_view.py --features``, session 44,
# ``small44``): alone 433,815 at any size; together ~333,000 + ~200,000 / n (377,117 at
# 8 before this pass), so alone pays only for one (CPU time under load said 8: not used).
_ALONE = 1


def _hashed_parts(messages: Sequence[tuple[MessageView, tuple[str, ...]]],
                  bits: int) -> list[Parts]:
    """``batch_parts`` of messages hashed afresh. Up to ``_ALONE`` of them (a batch of one,
    or the one new text among chat lines kept) each by
    itself (``_own_parts``: no keys of message and bucket to sort); more all at once:
    their buckets in one ``_batch_keys``, their teachable tokens (``_taught``) in one
    CRC pass and one sort of (message, bucket) keys, O(T log T) for the T features of all
    of them, with a fixed cost of ~60 numpy calls and two bytes slices and two arrays over
    them a message to cut them apart (``_split_parts``; read-only as bytes are, where the
    parts hashed alone are flagged so).
    A message's skeleton is split into words once (``_words``), for its cues, its teachable
    words and its hashed words."""
    if not messages:
        return []
    shift = np.uint32(32 - bits)
    known = well_known()
    named: list[list[str]] = []
    taught: list[tuple[list[str], list[bytes] | None, list[str]]] = []
    coarse: list[list[bytes]] = []
    folds: list[str] = []  # each prose casefolded once, for its cues and its n-grams
    for view, greeted in messages:
        words, hashed = _words(view.prose_skeleton)
        shape = shape_tokens(view)
        folded = view.prose.casefold()
        named.append(shape + cues(view, words, folded))
        taught.append(_taught(view, greeted, shape, known, words, hashed))
        coarse.append(hashed)
        folds.append(folded)
    if len(messages) > _ALONE:
        return _split_parts([view for view, _ in messages], named, taught, coarse, bits,
                            folds)
    out = [_own_parts(view, tokens, words, hashed, shift, folded)
           for (view, _), tokens, words, hashed, folded in zip(messages, named, taught, coarse,
                                                               folds, strict=True)]
    for found, teachable in out:
        found.setflags(write=False)
        teachable.setflags(write=False)
    return out


def _taught(view: MessageView, greeted: tuple[str, ...], shape: list[str],
            known: frozenset[str], words: list[str],
            coarse: list[bytes]) -> tuple[list[str], list[bytes] | None, list[str]]:
    """(words, their UTF-8 where known, tokens) that reports teach of a message whose
    prose's ``_words`` are ``words`` and ``coarse``: the words of its prose with its
    ``greeted`` names taken out (``_teachable_words`` chooses of them), and its shape and
    domains (the ``known`` sites' left out). A skeleton of ASCII that greets no one has
    ``coarse`` for its words' UTF-8 (the same runs), kept for ``_teachable_crcs``."""
    if greeted:
        prose = view.prose_skeleton
        for name in greeted:
            prose = prose.replace(name, " ")
        words = _ANY_WORD.findall(prose)
    return (words, None if greeted or not view.prose_skeleton.isascii() else coarse,
            shape + [f"dom:{d}" for d in view.domains if d not in known])


def _encoded(taught: tuple[list[str], list[bytes] | None, list[str]]) -> list[bytes]:
    """The UTF-8 of a ``_taught`` message's words."""
    words, known, _ = taught
    return list(map(str.encode, words, repeat("utf-8"), repeat("surrogatepass"))
                ) if known is None else known


def _split_parts(views: list[MessageView], named: list[list[str]],
                 taught: list[tuple[list[str], list[bytes] | None, list[str]]],
                 coarse: list[list[bytes]],
                 bits: int, folds: list[str] | None = None) -> list[Parts]:
    """``_hashed_parts`` of several messages: hashed together, then cut into each one's
    slices (``np.split`` costs ~10 µs a call in Python before any work). The buckets'
    keys are cut where each message's index begins (no array of indices made)."""
    plain = _word_crcs([*chain.from_iterable(coarse)])
    keys = _batch_keys(views, named, coarse, plain, bits, folds)
    found = (keys & ((1 << bits) - 1)).astype(np.uint32, copy=False).tobytes()
    ends = [0, *(np.searchsorted(keys, np.arange(1, len(views), dtype=keys.dtype) << bits)
                 * 4).tolist(), 4 * len(keys)]
    counts = [len(words) for words, _, _ in taught]
    encodings = list(map(_encoded, taught))
    crcs, owners = _teachable_crcs([*chain.from_iterable(words for words, _, _ in taught)],
                                   [*chain.from_iterable(encodings)], counts,
                                   _taught_plain(taught, encodings, coarse, plain))
    shift = np.uint32(32 - bits)
    tokens = [tokens for _, _, tokens in taught]
    teach_docs, teachable = _by_message(
        np.concatenate((owners, np.repeat(np.arange(len(views)), list(map(len, tokens))))),
        np.concatenate(((crcs * _MIX) >> shift,
                        _token_buckets([*chain.from_iterable(tokens)], shift))),
        bits, len(views))
    taught_ends = (np.searchsorted(teach_docs, np.arange(len(views) + 1)) * 4).tolist()
    taught_bytes = teachable.tobytes()
    # Each message's arrays over bytes of its own (copies, not views that would keep the
    # batch's arrays), read-only as bytes are: half a slice's copy and flag in time.
    return [(np.frombuffer(found[start:end], np.uint32),
             np.frombuffer(taught_bytes[first:last], np.uint32))
            for (start, end), (first, last) in zip(pairwise(ends), pairwise(taught_ends),
                                                   strict=True)]


def _taught_plain(taught: list[tuple[list[str], list[bytes] | None, list[str]]],
                  encodings: list[list[bytes]], coarse: list[list[bytes]],
                  plain: np.ndarray) -> np.ndarray:
    """CRC-32s on seed 0 of the ``_taught`` words' ``encodings``: a message's hashed words'
    (``coarse``, their CRCs ``plain``) where they are the same bytes, its own words' CRCs
    where not (a skeleton not of ASCII, or that greets a name)."""
    known = [words is not None for _, words, _ in taught]
    if all(known):
        return plain
    counts = list(map(len, encodings))
    out = np.empty(sum(counts), dtype=np.uint32)
    mine = np.repeat(known, counts)
    out[mine] = plain[np.repeat(known, list(map(len, coarse)))]
    out[~mine] = _word_crcs([*chain.from_iterable(
        compress(encodings, map(operator.not_, known)))])
    return out


def _key_type(messages: int, bits: int) -> type[np.integer[Any]]:
    """The type of ``messages``' (message, bucket) keys, a message's index above the
    bucket's ``bits``: of 32 bits when every index fits (up to 4,096 messages at 20 bits),
    which numpy sorts in half the time of 64 bits (its SIMD sort holds twice the keys a
    register), else of 64."""
    return np.uint32 if messages <= 1 << (32 - bits) else np.int64


def _by_message(docs: np.ndarray, found: np.ndarray, bits: int,
                messages: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (message, bucket) pairs of ``docs`` and ``found`` (indices of
    ``messages``) in that order, by one sort of a combined key (``_key_type``)."""
    keys: npt.NDArray[np.integer[Any]] = docs.astype(_key_type(messages, bits))
    keys <<= bits
    keys |= found
    return _parted(distinct(keys), bits)


def _parted(keys: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(message indices, buckets) of (message, bucket) ``keys``."""
    return (keys >> bits).astype(np.int64), (keys & ((1 << bits) - 1)).astype(np.uint32)


def stamp() -> str:
    """``FEATURE_VERSION`` and a digest of the probe texts' buckets: a model trained on
    other features than these is refused at load (``scorer.load``), not mis-scored."""
    digest = hashlib.blake2b(digest_size=8)
    for text in _PROBES:
        digest.update(buckets(_view(text)).tobytes())  # _view: hashed afresh, not cached
        digest.update(b"\x00")
    return f"{FEATURE_VERSION}:{digest.hexdigest()}"


_ANY_WORD = re.compile(r"\w+")
_TAIL = np.arange(1, 5)  # a stream's last four windows, back from its end


def batch_buckets(views: Sequence[MessageView], bits: int = BITS) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """``buckets`` of many messages at once: (message index, bucket), sorted by both.

    The same features as ``buckets``, with every array operation run once over
    all messages instead of once per message: the per-call overhead of numpy,
    not the arithmetic, is what single-message hashing pays for.
    """
    coarse = [_words(view.prose_skeleton)[1] for view in views]
    return _parted(_batch_keys(views, [shape_tokens(view) + cues(view) for view in views],
                               coarse, _word_crcs([*chain.from_iterable(coarse)]), bits), bits)


def _batch_keys(views: Sequence[MessageView], named: Sequence[list[str]],
                coarse: Sequence[list[bytes]], plain: np.ndarray, bits: int,
                folds: list[str] | None = None) -> np.ndarray:
    """The distinct (message, bucket) keys (``_key_type``'s) of ``views``' buckets, sorted,
    with each view's ``shape_tokens`` and ``cues`` given (``named``) and its hashed words
    (``_words``: ``coarse``, their CRC-32s one array, ``plain``: the caller's, which its
    teachable words share; each prose casefolded, ``folds``, where the caller has them).

    Every feature of the batch is keyed where it is made: the n-grams, the words, their
    pairs and the tokens each fill a slice of one array, their messages' indices or'ed in
    by a broadcast or a repeat, and one sort makes them distinct; no mask gathers the
    batch's values and no array of indices is built beside them. A window that runs into
    the next message's stream (the last four of each) and a pair of words of two messages
    are given a key their message has anyway (its stream's last whole window, the pair's
    first word), a repeat the sort drops: each message keeps exactly its own features.
    """
    shift = np.uint32(32 - bits)
    owners = np.arange(len(views), dtype=_key_type(len(views), bits)) << bits
    # The streams joined, then encoded once (a code point is four bytes of UTF-32, lone
    # surrogates too: each stream's bytes as alone), not each encoded by the codec's
    # look-up and the batch's bytes joined.
    streams = list(map(_stream_text, views, folds or repeat(None)))
    lengths = np.array(list(map(len, streams)))
    joined = "".join(streams).encode("utf-32-le", "surrogatepass")
    total = len(joined) // 4 - 4
    grams = _gram_hashes(_windows(joined, total), np.empty((5, total), dtype=np.uint32))
    ends = np.cumsum(lengths[:-1])
    grams[:, (ends[:, None] - _TAIL).ravel()] = grams[:, np.repeat(ends - 5, 4)]
    grams *= _MIX
    grams >>= shift
    count = len(plain)
    pairs = max(count - 1, 0)
    hashed = np.empty(count + pairs, dtype=np.uint32)
    hashed[:count] = plain
    single = hashed[:count]
    np.multiply(single[:-1], _P, out=hashed[count:])
    hashed[count:] ^= single[1:]
    hashed[count:] ^= np.uint32(_PAIRED)
    hashed *= _MIX
    hashed >>= shift
    tokens = _token_buckets([*chain.from_iterable(named)], shift)
    keys = np.empty(4 * total + len(hashed) + len(tokens), dtype=owners.dtype)
    np.bitwise_or(grams, np.repeat(owners, lengths)[:total], out=keys[:4 * total].reshape(4, total))
    at = 4 * total
    word_owners = np.repeat(owners, list(map(len, coarse)))
    np.bitwise_or(single, word_owners, out=keys[at:at + count])
    np.bitwise_or(hashed[count:], word_owners[:-1], out=keys[at + count:at + len(hashed)])
    starts = np.cumsum(list(map(len, coarse[:-1])), dtype=np.int64)  # each later one's first word
    across = starts[(starts > 0) & (starts < count)] - 1  # pairs of two messages' words
    keys[at + count + across] = keys[at + across]
    np.bitwise_or(tokens, np.repeat(owners, list(map(len, named))), out=keys[at + len(hashed):])
    return distinct(keys)
