"""Near neighbours among reported messages: a character-shingle sketch and its index.

A wave is many variants of one pitch: the same offer, the same handles,
the same phrasing skeleton with a name, a number or a few words changed. Ordinary
chat in the same language shares only its common words with a pitch, and those are
a small part of either text. So the similarity is measured on the *whole* text's
character 5-grams (after disguises are folded and what personalises a copy is masked:
``text.masked_for``; its links' domains left out, as they have evidence of their own),
as Jaccard: a variant shares most of its shingles with another
variant, while two texts that merely share the language's common words ("yang",
"anda", "kamu", "и", "что") share few of theirs, because each text's other
words (its offer, its handles, its phrasing) are its own.

A neighbour is a reported text with Jaccard ≥ ``NEAR`` = 1/3: for two texts of
equal size that share a share ``s`` of their shingles, J = s / (2 − s), so J ≥ 1/3
is "at least half of each text's shingles are the other's". Character shingles (not
words) make this hold in any script, Thai's unspaced text included, and survive a
letter changed here and there.

**Ordinary chat's shingles are no evidence.** Short chat repeats itself ("Sorry,
I'll call later in meeting", a bank's OTP notice), so two ordinary texts can share
half their shingles, and a reported one would reach the other: on UCI's real chat,
3.3 % of one half's messages (one per fingerprint) were within ``NEAR`` of another
ordinary message. So the shingles that at least ``ORDINARY_SHARE`` = 1/1000 of the
ordinary messages of the training corpora contain are dropped before sketching: a
shingle that common cannot tell a wave from chat at the 0.1 % of chat a wave may
touch. What remains is a text's own words (its offer, handles, phrasing); a text left
with fewer distinct shingles than a ``MIN_CHARS``-long text has is a phrase anyone
types and gets no sketch. The table (``data/ordinary_shingles.npy``, built by
``python -m spimguard.neighbours DATASETS``) knows the training corpora's languages
only (English, Indonesian, Thai, X posts); in another language only ``NEAR`` and the
reporters' weights stand between a reported chat line and its copies.

**What varying each copy costs the sender.** A copy escapes a reported one when they
share less than half their own shingles. A 5-gram survives a changed character only
if none of its five is changed, so a character in every ``k`` changed at places that
differ per copy leaves (1 − 1/k)¹⁰ shared: under a half from k < 15, a typo every 15
characters of every copy that the text view does not fold (homoglyphs, invisible
marks, case and spacing are folded), or half its words reworded. Padding dilutes, as
J = n / (n + g) for g padded shingles against a pitch of n: a copy must add twice its
pitch in text of its own. Ordinary chat is no such text: four English chat lines
(304 characters) after a 51-shingle pitch added 288 shingles without the table
(exact J with a variant 0.82 → 0.22: escaped) and 62 with it (0.75 → 0.37: at the
bar, where the 64-value estimate falls either side). And the copy's site, numbers
and handles stay for the links and bulk detectors.

**The sketch** is a 64-value MinHash of those shingles (each shingle a 64-bit
polynomial hash of its code points, mixed; 64 fixed affine permutations: the same
values in every process and on every machine), each value cut to a 16-bit mark of
the least shingle: 128 bytes per message, from which the text cannot be read back.
The share of equal values estimates J (two different least shingles share a mark by
chance once in 65,536). A batch's messages are sketched together (``sketches``: numpy's
cost per call paid once a batch): on the simulator's mixed load (its 2,934 messages in the
clear, the detector's ``prepare`` alone under callgrind), 29,000 instructions a message in
batches of 500 against 127,000 in batches of one (177,000 before a lone text was sorted
without owners and the offsets kept in Python; 252,000 before texts too short to sketch
went unhashed and each window's hash became one product).

**The index** is LSH over 32 bands of 2 values: a reported text is a candidate when
one band is equal, with probability 1 − (1 − J²)³² (98 % at J = 1/3, 27 % at 0.1);
candidates are then kept only if their estimated J ≥ NEAR. A lookup costs 32 dict
probes plus 64 comparisons per candidate: O(32 + 64·C), C ≤ the number of
reported texts kept (bounded by the detector's ``max_remembered``).
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import accumulate
from pathlib import Path

import numpy as np

from .kept import answers, touched
from .model.features import distinct
from .text import MessageView, masked, masked_for, view

SIZE = 64  # MinHash values per sketch
ROWS = 2  # values per LSH band (SIZE / ROWS bands)
SHINGLE = 5  # characters per shingle
NEAR = 1 / 3  # Jaccard at which a reported text is a neighbour (module docstring)
MIN_CHARS = 20  # a shorter text ("ok, see you at 5") is a phrase anyone types, not a pitch
MIN_SHINGLES = MIN_CHARS - SHINGLE + 1  # distinct own shingles such a text has at most
ORDINARY_SHARE = 1 / 1000  # share of ordinary messages from which a shingle is no evidence
ORDINARY = "ordinary_shingles.npy"  # the bundled table (package data)
MAX_CHARS = 4_000  # shingles taken from at most this much text: bounded cost per message


_P = np.uint64(0x100000001B3)  # the polynomial's base (FNV-1a's 64-bit prime)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # a multiplicative mix (2^64 / golden ratio)
_MIX_SHIFT = np.uint64(29)  # a hash is mixed as (h ^ h >> 29) · _MIX
_POWER_ROW = np.array([pow(int(_P), SHINGLE - 1 - k, 2**64) for k in range(SHINGLE)],
                      dtype=np.uint64)  # P^(SHINGLE-1-k): a shingle's hash is Σ c_k · P^(...)
_POWERS = tuple(_POWER_ROW)  # the same, one scalar a term
_MANY = 1_000  # windows from which a batch's arrays pay per element, not per call (waves44)
_PERMUTATIONS = np.random.Generator(np.random.PCG64(20261202)).integers(
    0, 2**63, size=(2, SIZE), dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd a, b


# a·h + b is a bijection of 64-bit words for odd a: its inverse h = (v − b)·a⁻¹ names the
# shingle behind a least value, so a batch's minima need no argmin per message.
_INVERSES = np.array([pow(int(a), -1, 2**64) for a in _PERMUTATIONS[0]],
                     dtype=np.uint64)[:, None]
_A, _B = (p[:, None] for p in _PERMUTATIONS)  # columns: a permutation a row, a text a column
_MARK_SHIFT = np.uint64(48)  # a mark is the top 16 bits of the least shingle, mixed

_CHUNK = 4_096  # shingles permuted at once in ``sketches`` (SIZE × 4,096 words: 2 MB)
KEPT_SKETCHES = 8_192  # texts' sketches kept by ``sketches``' ``kept`` (~6 MB at most)

Texts = Sequence[tuple[MessageView, tuple[str, ...]]]  # (view, names) of each message


def _words(v: MessageView, names: tuple[str, ...]) -> str:
    """What a text's shingles are of: its masked prose without its links' domains. Links
    have evidence of their own (``detectors/reputation.py``); a short line's shingles would
    be mostly its link's, so any line naming a reported domain would be a near variant of
    the pitch that named it, and the same reports would count twice."""
    return masked(v.prose_skeleton, (), names) if v.domains else masked_for(v, names)


def shingles(texts: Texts, common: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct masked character-shingle hashes less the ``common`` ones
    (``ordinary``), for a batch of texts at once: (hashes, text) where ``text[i]`` is the
    index in ``texts`` of the one ``hashes[i]`` is from, sorted by text, then hash."""
    found, sizes = _shingles([_words(v, names)[:MAX_CHARS] for v, names in texts], common)
    return found, np.repeat(np.arange(len(sizes)), sizes)


def _shingles(words: Sequence[str], common: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``shingles`` of the strings ``words``, with how many each has in place of the text
    of each hash.

    Each shingle is a 64-bit polynomial hash of its code points, Σ c_k · P^(SHINGLE-1-k)
    mod 2^64, mixed. The batch's texts are hashed as one run of code points (``_hashes``),
    of which the positions whose SHINGLE characters lie in one text are kept: numpy's cost
    per call is paid once per batch, not per message, and the work is O(C log C) for the
    batch's C characters (the sort that keeps each text's distinct hashes). One text (a
    batch of one, or one among short chat lines) is all its own: a plain sort of its
    hashes, no array of owners."""
    hashed = _hashes("".join(words))
    if len(words) == 1:
        found = distinct(hashed[_own(hashed, common)] if len(common) else hashed)
        return found, [len(found)]
    owner = np.repeat(np.arange(len(words)), [len(w) for w in words])  # each character's
    span = len(hashed)
    inside = owner[:span] == owner[SHINGLE - 1:]  # shingles within one text
    hashed, text = hashed[inside], owner[:span][inside]
    if len(common):  # then the table's out: fewer to look up, fewer to sort
        own = _own(hashed, common)
        hashed, text = hashed[own], text[own]
    order = np.lexsort((hashed, text))
    hashed, text = hashed[order], text[order]
    first = np.ones(len(hashed), dtype=bool)
    first[1:] = (hashed[1:] != hashed[:-1]) | (text[1:] != text[:-1])
    return hashed[first], np.bincount(text[first], minlength=len(words)).tolist()


def _hashes(run: str) -> np.ndarray:
    """The mixed hash of every window of SHINGLE code points of ``run``: Σ c_k · P^(...)
    mod 2^64, a term a window position at a time over the whole run (Horner's sum in
    another order: integers mod 2^64, the same value). Why not one matrix product of the
    windows and the powers: numpy's integer ``matmul`` is a loop of ~90 instructions a
    window, five products and four sums ~25 (``waves44``), but each of their nine calls
    costs ~4,000: a run of fewer than ``_MANY`` windows (a text alone) takes the one
    product. The code points are widened
    first: a product of mixed types casts as it goes."""
    points = np.frombuffer(run.encode("utf-32-le", "surrogatepass"),
                           dtype=np.uint32).astype(np.uint64)
    span = max(len(points) - SHINGLE + 1, 0)
    if span < _MANY:  # one product: numpy's cost a call is the most of it
        hashed = np.ndarray((span, SHINGLE), dtype=np.uint64, buffer=points,
                            strides=(8, 8)) @ _POWER_ROW
    else:
        hashed = points[:span] * _POWERS[0]
        for k in range(1, SHINGLE):
            hashed += points[k:k + span] * _POWERS[k]
    hashed ^= hashed >> _MIX_SHIFT
    hashed *= _MIX
    return hashed


def _own(hashed: np.ndarray, common: np.ndarray) -> np.ndarray:
    """Which of ``hashed`` the sorted, non-empty table ``common`` does not hold.

    Why not a binary search of each: at ~14 steps in the bundled table it cost ~11,000
    instructions a new text, a seventh of its sketch (``waves44``). The hashes are
    mixed, so their top bits spread them over ``_buckets``' slots evenly: a hash equal
    to its slot's is the table's, one unequal whose bucket holds one hash or none is
    not, and only the rest (a bucket that holds more: ~1 in 20 of the windows) are
    searched. The same answer as the search's for every hash, at ~5 array passes; a run
    of fewer than ``_MANY`` (a text alone) is searched whole, as its six calls would cost
    more than the search."""
    if len(hashed) < _MANY:  # two calls: numpy's cost a call is the most of it
        return common.take(np.searchsorted(common, hashed), mode="clip") != hashed
    slot, several, shift = _buckets(common)
    bucket = hashed >> shift
    own = slot.take(bucket) != hashed
    doubt = np.flatnonzero(several.take(bucket) & own)
    if len(doubt):
        searched = hashed[doubt]  # the table's value where each would go is another
        own[doubt] = common.take(np.searchsorted(common, searched), mode="clip") != searched
    return own


_BUCKETS: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.uint64]] = {}


def _buckets(common: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """``_own``'s look-up of the sorted table ``common``: by its hashes' top ``k`` bits,
    2^k ≥ 4 × the table (the bundled one's 13,808: 2^16 slots, 0.6 MB), each bucket's
    least hash (an empty one's slot a value of another bucket), and whether it holds
    more than one. Kept by the table's identity (the table held with it, so the id is
    not reused): a process sees a few tables, built once each."""
    made = _BUCKETS.get(id(common))
    if made is None or made[0] is not common:
        bits = min(max(len(common).bit_length() + 2, 8), 24)
        shift = np.uint64(64 - bits)
        slot = ~(np.arange(1 << bits, dtype=np.uint64) << shift)  # top bits not its own
        buckets, first, counts = np.unique(common >> shift, return_index=True,
                                           return_counts=True)
        slot[buckets] = common[first]
        several = np.zeros(1 << bits, dtype=bool)
        several[buckets[counts > 1]] = True
        if len(_BUCKETS) >= 8:  # tables a test or a comparison made: let go
            _BUCKETS.clear()
        made = _BUCKETS[id(common)] = (common, slot, several, shift)
    return made[1], made[2], made[3]


@cache
def ordinary(path: str = "") -> np.ndarray:
    """The sorted shingle hashes that are no evidence: the table at ``path``, the bundled
    one if empty; none if ``path`` is ``"none"`` (a comparison, or a benchmark's baseline)."""
    if path == "none":
        return np.empty(0, dtype=np.uint64)
    source = resources.files("spimguard").joinpath(f"data/{ORDINARY}") if not path else (
        Path(path))
    with source.open("rb") as handle:
        table = np.load(handle, allow_pickle=False)
    if table.dtype != np.uint64 or table.ndim != 1 or np.any(table[1:] <= table[:-1]):
        raise ValueError(f"{path or ORDINARY}: not a sorted table of distinct uint64 hashes")
    return table


def common_shingles(texts: Sequence[str], share: float = ORDINARY_SHARE) -> np.ndarray:
    """The shingles (sorted hashes) that at least ``share`` of ``texts`` contain."""
    found, _ = shingles([(view(t), ()) for t in texts], ordinary("none"))
    hashes, counts = np.unique(found, return_counts=True)
    return hashes[counts >= max(share * len(texts), 1)]


def sketches(texts: Texts, common: np.ndarray | None = None,
             kept: dict[str, np.ndarray | None] | None = None) -> list[np.ndarray | None]:
    """The MinHash of each message's shingles (``shingles``; the ``ordinary`` table's if
    ``common`` is None), each value a 16-bit mark of
    the shingle that is least under one of SIZE affine permutations (a·h + b mod 2^64,
    a odd: a bijection); None for a text too short to be a pitch. The arrays are
    read-only: one may answer several messages.

    ``kept``, when given, holds earlier answers (``kept.answers``) by the words sketched, for
    this ``common`` table only (a sketch is a function of the two: the caller keeps one
    ``kept`` a table, as ``WavesDetector`` does): a text found there is not hashed again,
    and those up to ``CACHED_CHARS`` long are put there, at most ``KEPT_SKETCHES``, the
    least recently used let go first. Chat repeats its lines and a wave its pitch, and a
    text hashed alone (a batch of one: the server's ordinary load) pays numpy's cost a
    call ~20 times; from ``kept`` it pays a dict look-up.

    A batch at once: every permutation of every shingle, then each text's least value
    per permutation (``np.minimum.reduceat``), the least shingle recovered from its
    value (``_INVERSES``). O(SIZE · S) for the batch's S shingles, the SIZE × S products
    taken ``_CHUNK`` shingles at a time (a few MB, however large the batch).

    A text shorter than ``MIN_CHARS`` has fewer than ``MIN_SHINGLES`` shingles of any
    kind, so it is not hashed at all: most chat lines, and at a batch of one or three
    (the server's ordinary load) the batch's whole cost when they are all of them."""
    words = [_words(v, names)[:MAX_CHARS] for v, names in texts]
    long = [at for at, w in enumerate(words) if len(w) >= MIN_CHARS]
    out: list[np.ndarray | None] = [None] * len(texts)
    chosen = [words[at] for at in long]
    found = _sketched(chosen, common) if kept is None else answers(
        kept, chosen, [len(w) for w in chosen],  # type: ignore[arg-type]
        lambda new: _sketched([chosen[at] for at in new], common), KEPT_SKETCHES)
    for at, values in zip(long, found, strict=True):
        out[at] = values
    return out


def kept_sketch(view: MessageView, names: tuple[str, ...],
                kept: dict[str, np.ndarray | None]) -> np.ndarray | None:
    """One message's ``sketches`` answer from ``kept`` (the same table's) alone: None for a
    text too short, the kept sketch touched as ``sketches`` touches it, else
    ``kept.UNKEPT`` (nothing changed: ``sketches`` then hashes it).

    Why: at the server's batches of one nearly every text is short or sketched before,
    and ``sketches``' lists, closure and loops for its one text cost ~100 bytecodes
    (``prep42``); this is the same look-up of the same words."""
    words = _words(view, names)[:MAX_CHARS]
    if len(words) < MIN_CHARS:
        return None
    return touched(kept, words)


def _sketched(words: list[str], common: np.ndarray | None) -> list[np.ndarray | None]:
    """``sketches`` of texts whose ``words`` are each at least ``MIN_CHARS`` long."""
    out: list[np.ndarray | None] = [None] * len(words)
    if not words:
        return out
    found, sizes = _shingles(words, ordinary() if common is None else common)
    kept = [t for t, size in enumerate(sizes) if size >= MIN_SHINGLES]
    if not kept:
        return out
    if len(kept) < len(sizes):  # the others' shingles out
        found = found[np.repeat(np.array(sizes) >= MIN_SHINGLES, sizes)]
        sizes = [sizes[t] for t in kept]
    ends = list(accumulate(sizes))  # offsets in Python: a batch of one needs no arrays
    starts = [0, *ends[:-1]]
    least = []
    first = 0
    while first < len(kept):  # texts whose shingles fit in one chunk (at least one text)
        last = max(bisect_right(ends, starts[first] + _CHUNK), first + 1)
        low, offsets = starts[first], starts[first:last]
        values = _A * found[low:ends[last - 1]] + _B
        least.append((np.minimum.reduceat(values, np.subtract(offsets, low) if low else offsets,
                                          axis=1) - _B) * _INVERSES)
        first = last
    # (SIZE, texts) a chunk: each text's row of marks made contiguous by the last step.
    marks = ((least[0] if len(least) == 1 else np.concatenate(least, axis=1)) ^ _A) * _MIX
    rows = (marks >> _MARK_SHIFT).T.astype(np.uint16, order="C")
    rows.setflags(write=False)  # each row a view of it: read-only too
    for t, values in zip(kept, rows, strict=True):
        out[t] = values
    return out


def sketch(view: MessageView, names: tuple[str, ...] = (),
           common: np.ndarray | None = None) -> np.ndarray | None:
    """One message's ``sketches``."""
    return sketches([(view, names)], common)[0]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard of the two texts behind two sketches."""
    return float(np.count_nonzero(a == b)) / SIZE


_BAND_IDS = np.arange(SIZE // ROWS, dtype=np.int64) << 32


def _bands(values: np.ndarray) -> list[int]:
    """Each band's key, (band << 32) | (first value << 16) | second value: three array
    operations for the 32 bands, not a Python loop over them (~40 µs a lookup)."""
    pairs = values.astype(np.int64).reshape(-1, ROWS)
    return (_BAND_IDS | (pairs[:, 0] << 16) | pairs[:, 1]).tolist()


@dataclass
class Entry:
    """A reported text as the index holds it: what it weighs per reporter, since when."""

    key: str
    values: np.ndarray
    shares: dict[str, float]  # reporter -> its share of the text's net label
    at: float  # when it was last reported (it counts for ``Index.ttl`` from then)
    operator: bool = False  # an operator decided it is spam


@dataclass
class Index:
    """Reported texts by LSH band (see the module docstring), at most ``cap`` of them,
    each for ``ttl`` seconds: what the state's member set of them keeps, the same way
    (the oldest dropped first, in (time, key) order)."""

    ttl: float
    cap: int
    entries: dict[str, Entry] = field(default_factory=dict)
    _bands: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    def put(self, entry: Entry) -> None:
        self.drop(entry.key)
        self.entries[entry.key] = entry
        for band in _bands(entry.values):
            self._bands[band].add(entry.key)
        while len(self.entries) > self.cap:
            self.drop(min(self.entries.values(), key=lambda e: (e.at, e.key)).key)

    def drop(self, key: str) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            for band in _bands(old.values):
                keys = self._bands[band]
                keys.discard(key)
                if not keys:
                    del self._bands[band]

    def near(self, values: np.ndarray, now: float) -> Iterable[Entry]:
        """The live entries within NEAR of a sketch, in key order (deterministic)."""
        found: set[str] = set()
        for band in _bands(values):
            found.update(self._bands.get(band, ()))
        for key in sorted(found):
            entry = self.entries[key]
            if now - entry.at < self.ttl and similarity(entry.values, values) >= NEAR:
                yield entry


def main(argv: Sequence[str]) -> None:
    """``python -m spimguard.neighbours DATASETS [OUT]``: the table of ordinary chat's
    shingles from the ordinary messages (one per fingerprint) that the shipped content
    model trains on, so the same corpora, and only openly licensed ones."""
    from .model import crosscorpus

    if len(argv) not in (1, 2):
        raise SystemExit(main.__doc__)
    samples = crosscorpus.one_per_fingerprint(crosscorpus.training_set(
        crosscorpus.load(Path(argv[0]))))
    out = Path(argv[1]) if len(argv) == 2 else Path(__file__).parent / "data" / ORDINARY
    np.save(out, common_shingles([s.text for s in samples if not s.spam]))


if __name__ == "__main__":
    main(sys.argv[1:])
