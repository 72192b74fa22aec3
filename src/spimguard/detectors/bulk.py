"""Bulk: one pitch, personalised, pushed through many accounts to many recipients.

Near-duplicates are found with MinHash LSH (``band_keys``: datasketch's affine32
MinHash, computed here in numpy): the text is masked (numbers, mentions, links
reduced to their domain, the recipients' own ids, all in the disguise-folded
skeleton), its fillers left out (``BulkSettings.fillers``: "really", "just", a padding
that changes no meaning) and so its masks (``_MASKS``: a number, a mention or a name
padded in says nothing the pitch says), cut into word pairs, and its 30-value MinHash
split into 6 bands of 5.
Two texts share a band with probability 1 - (1 - J^5)^6 for Jaccard similarity J:
50 % at J = 0.70, 97 % at J = 0.85, 3 % at J = 0.40, so personalised copies of one
pitch meet and ordinary chat does not. Each band is a key in state whose value is the id of
its cluster; the cluster's summary (messages and recipients, decayed with a half-life;
recent senders; first seen; who reported it and whether that confirmed it as spim) lives
once, under its home key (``home``: ``bulk:c:<id>``). One read of the six band keys
(``ops.Gets``) finds the clusters, one more (``read_more``) their summaries, and one write
of the six (``ops.Puts``) and the home updates it. Why one home (session 34,
``clusters34``): when each band held the whole summary, a spun copy (synonyms per copy)
joining through a band an early copy last wrote carried that copy's count forward, and a
campaign of 200 spun copies counted 49-68 of them; a home is the one count every copy
adds to, whichever band it came through.

BULK_NEAR_DUPLICATE grows with the number of senders, or with the recipients of
one sender, times the cluster's *shape*: friends passing a text or a link on
write to the two or three people they know, a campaign sends each copy to many,
or to strangers. The shape is the larger of the reach per sender (decayed
recipients over decayed senders, ramped between ``reach_soft`` and
``reach_hard``) and the share of recipients who are strangers to their sender
(``accounts.standing``: not on its list nor correspondents, or on its list and never
vouched for it, listing it back or writing to it). One sender writing to a few people
it only lists is a newcomer's first lines; a cluster whose recipients never vouched
for its senders is a campaign however thinly its bots spread it (each listing five
targets). So many senders with a few friends each (viral sharing, a phrase everyone
types) are not bulk, and the evidence says the shape it saw. Bulk alone stays under the
warn threshold: greetings are bulk too.
CAMPAIGN_CONFIRMED (users' reports confirmed the cluster as spim) holds on its own.
BULK_UNPROVEN_SESSIONS (session 32) holds a message with a site (a link, or a site written
apart: ``takeover.keys.sites``) from a session the takeover detector judges unproven that
has pitched a few already, when other accounts' unproven sessions sent its words with a
site too and are the most of its recent senders: one hand in many accounts, a seller
signed in to its victims (``_others`` says why friends forwarding a text are not).
Confirmation needs ``confirm_reporters`` distinct reporters whose reports carry that
much weight in all, *and* that weight on at least ``confirm_share`` of the cluster's
(decayed) messages: a spim wave is reported by a share of its recipients, while a phrase
thousands of people send ("can you pick up bread on the way back") collects a stray
mistaken report now and then and must not be held for it. A report's weight is the
report-trust model's (``trust.py``): only recipients of the reported copy count, once
per message, throwaway and restricted accounts less. Both bars rise with the share of
the cluster's copies that came from their owners' usual app and network to their own
contacts (FAMILIAR_SENDER), up to ``confirm_familiar`` times: friends forwarding a chain
letter are not a campaign. Confirmation credits its reporters' track records.

Encrypted messages have no words to cluster (``text.SEALED``): they are judged on
metadata by the other detectors. A report of one may carry its words (``report.text``,
from the reporter's client); they add the report's weight to the cluster of those
words only when the reported message's sender is among that cluster's recent senders,
so a reporter cannot pin arbitrary words on a campaign it never received.

A sender counts once toward the reach per sender, on its first copy: the cluster keeps
its ``max_senders`` most recent senders, and those the list has pushed out in a
bitmap (``sketch_bits``, one for each ``sender_window`` and the one before it), so a
campaign that rotates more bots than the list holds is still recognised as the few bots
it is, each sending many copies, not counted as a new sender's first copy each time
(which held its reach at one). A sender is forgotten once its count has decayed (one to
two windows after its last copy), as the counts forget it. A bit another sender set
hides a new sender, so each sender the bitmap does not hold counts as bitmap size over
free bits (linear counting: on average one a sender however full the bitmap); once it
is too full to tell (fewer than an eighth of its bits free), a sender not on the list
counts as new again, as the list alone had it.

Memory: a text seen once keeps its six band keys for ``singleton_ttl``; a
cluster for ``cluster_ttl`` after its last message; a cluster's value is bounded (its
lists, and two bitmaps of ``sketch_bits``), its bands hold an id. On a shared store the
home is read in the event's claim (``RedisState.read_claimed``), so two nodes counting
copies of one cluster at once do not lose either's copy: the later write is refused and
its event judged again.
"""

from __future__ import annotations

import array
import itertools
import math
import re
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

import msgspec
import numpy as np

from .. import accounts, trust
from ..config import Config
from ..events import Message, Report
from ..signals import Signal
from ..state.ops import Contains, Get, Gets, Put, Puts, Query, Write
from ..text import CACHED_CHARS, MessageView, masked_for, names_of, skeleton, view
from . import turns
from .base import (
    Context,
    Facts,
    Outcome,
    Planning,
    once,
    ramp,
    read_more,
    sealed,
    settings,
    shared,
    shared_ties,
)
from .takeover import TakeoverDetector
from .takeover.keys import sites


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """The bulk detector's settings (``detectors.bulk`` in config)."""

    bands: int = 6  # LSH bands ...
    rows: int = 5  # ... of this many MinHash values each (see the module docstring)
    min_words: int = 4  # texts with fewer words are not clustered ("ok", "lol", "thanks")
    # Words a sentence means the same without (intensifiers, hedges, hesitations: session
    # 33, ``respin33``), left out of the word pairs: a spammer pads each copy with its own
    # few ("really", "just", "literally", "so" after a quarter of the words) and every one
    # broke two of the pairs, where people rewording a text change what it says. A closed
    # class, not a list of frequent words: dropping "you", "the" or "call" would let chat
    # that differs in them meet (measured in ``benchmarks/bulk.py``: distinct ham of the
    # shipped sets joined). In their skeleton form (``text.skeleton``), as texts are read.
    fillers: tuple[str, ...] = (
        "really", "just", "literally", "so", "very", "actually", "basically", "totally",
        "truly", "simply", "quite", "honestly", "seriously", "definitely", "absolutely",
        "um", "uh", "erm", "hmm")
    half_life: int = 3_600  # seconds over which a cluster's counts halve
    singleton_ttl: int = 3_600  # seconds a text seen once is remembered
    cluster_ttl: int = 86_400  # seconds a cluster is remembered after its last message
    senders_soft: int = 2  # distinct recent senders where evidence starts ...
    senders_hard: int = 10  # ... and is full
    recipients_soft: int = 25  # recipients of one sender's copies where evidence starts ...
    recipients_hard: int = 200  # ... and is full
    reach_soft: int = 3  # recipients per sender up to which a cluster is sharing, not a push ...
    reach_hard: int = 8  # ... and from which it is a push in full
    max_senders: int = 32  # recent senders kept per cluster
    # Seconds a sender pushed off ``max_senders`` stays known, for one to two of them after
    # its last copy: two half-lives, when what its first copy added to the counts is
    # worth a quarter to a sixteenth (then it counts as a new sender again).
    sender_window: int = 7_200
    # Bits of each window's bitmap of senders pushed off the list (128 bytes): it tells
    # about 2,000 of them in a window before too few bits are free (an eighth).
    sketch_bits: int = 1_024
    max_recipients: int = 64  # recent recipients kept per cluster (to count new ones)
    confirm_reporters: int = 3  # distinct reporters before reports confirm a cluster ...
    confirm_share: float = 0.05  # ... and report weight per (decayed) message of the cluster
    confirm_familiar: float = 3.0  # both bars times this when every copy was a familiar sender's
    # One intruder in many accounts (session 32, ``campaign32``): a message with a site from
    # a session the takeover detector judges unproven, whose words other accounts' unproven
    # sessions sent with a site too (``Cluster.unproven``), is the same hand in each. At
    # least this many other accounts: one is enough, for friends do not forward a text
    # from phones nobody proved theirs, and the seller's second victim is its first reuse.
    unproven_others: int = 1
    # ... and they are at least this share of the cluster's recent senders (the message's
    # own account counted): a text the platform's people send goes mostly from their own
    # devices, whatever its reach (new phones are a few in a hundred sessions, so a viral
    # chain text's recent senders are nearly all proven); a campaign's copies all come from
    # sessions nobody proved. A share of its ``max_senders`` recent senders, not a count,
    # so it does not grow with the platform.
    unproven_share: float = 0.5
    # ... and the account's unproven sessions delivered at least this many messages with a
    # site in the day before it: a new phone passes a link to two or three friends
    # (``reach_soft``: sharing, not a push), and two unrelated owners' new phones may share
    # one site with a share sheet's same words; the hand pitches each account's list. The
    # account's, not the session's (``TakeoverDetector.session_sent``, ``review32c``): a
    # session id is the hand's to choose, and a fresh one every third pitch kept each under
    # the gate. With a site (``unproven33``): a new phone's "it's me" lines are no pitch,
    # and counting them held an owner who wrote three on a text anyone could poison.
    unproven_sent: int = 3
    # The utterance a recipient reads (session 34, ``split34``, ``turns``): words with no
    # site and a site with too few words to cluster, one after the other from one account
    # (any of its unproven sessions, ``review34b``) to one recipient within this many
    # seconds, are one message with a site to its reader. As long as bulk remembers a
    # text seen once (``singleton_ttl``): a reader away reads both together however far
    # apart they came, and only words other accounts' unproven sessions sent with a site
    # make the join count.
    turn_window: int = 3_600
    # ... of at most this many recipients an account (``max_senders``'s bound on a list):
    # a seller giving its words to every victim before their links joins this many.
    turn_recipients: int = 32


SIGNALS = {
    "BULK_NEAR_DUPLICATE": "the same text, personalised, reaches many recipients through many "
                           "senders or through one",
    "CAMPAIGN_CONFIRMED": "a near-duplicate of messages users reported as spim",
    "BULK_UNPROVEN_SESSIONS": "words with a site that other accounts' unproven sessions sent, "
                              "from a session nobody proved the account's own",
}

_WORD = re.compile(r"[\w<>#@.-]+")
# What of ``_WORD``'s characters is no letter nor digit: its ``\w`` is a letter or a digit
# of any script or "_" (``re``: ``str.isalnum()`` or "_"), so a word that is all of these
# has no letter nor digit (``_words``), found by ``str.strip`` (no regular expression's
# search a word: a fifth of a new text's band keys).
_MARKS = "_<>#@.-"
# ``text.masked``'s for a number, a mention and a recipient's name: no words (session 34,
# ``padding34``). A mask says only that something personal stood there, which is what a
# copy padded with numbers or its recipient's name says at every pad; the pitch's words
# around a figure are its content, and they stay paired across it ("made # dollars" pairs
# "made dollars"). Links are not masks: a link's domain (``<site>``) is the pitch's.
_MASKS = frozenset(("#", "@", "<name>"))


class Cluster(msgspec.Struct):
    """A cluster's summary, as its home key holds it (``home``): msgpack bytes
    (``stored``), which decode straight into the struct, a third of the time of JSON
    decoded to a dict and converted (one cluster read and one written a message). An
    earlier release kept it on each band key (msgpack; before that JSON, converted from
    the dict it reads as): such a band is read as a cluster of its own id until rewritten
    (``BulkDetector._decoded``)."""

    id: str
    first: float
    last: float
    messages: float = 0.0  # decayed count
    recipients: float = 0.0  # decayed count of recipients new to the cluster
    senders: list[str] = []  # most recent last
    seen: list[str] = []  # recent recipients (a text resent to one friend is not bulk)
    confirmed: str = ""  # "report" once users' reports confirmed it as spim
    reporters: list[str] = []  # distinct spam reporters whose reports weighed (capped)
    weight: float = 0.0  # their reports' summed weight (report-trust model)
    familiar: float = 0.0  # decayed count of copies sent as FAMILIAR_SENDER
    campaign: bool = False  # spim evidence seen: verdicts carry its id
    sender_count: float = 0.0  # decayed count of senders new to the cluster
    strangers: float = 0.0  # decayed count of its new recipients who were strangers to the sender
    # Senders pushed off ``senders`` (``_Sketch``): empty until the list first overflows.
    sketch: bytes = b""
    # Recent senders whose copy, with a site, came from a session the takeover detector
    # judged unproven (SESSION_UNFAMILIAR), most recent last, at most ``max_senders``.
    # Stored as "u" (3 bytes a value while empty, on every cluster's six band keys).
    unproven: list[str] = msgspec.field(default_factory=list, name="u")
    # When its home expires, as last written (``_put``): a later write never keeps it for
    # less, for bands an earlier write named it under live as long. Stored as "k" (0.0 in
    # an earlier release's summary: its own TTL, as before).
    kept: float = msgspec.field(default=0.0, name="k")


class _Sketch(NamedTuple):
    """A cluster's bitmaps of the senders pushed off its list of recent senders: the
    current ``sender_window``'s and the one before, as of ``epoch``. Stored as
    ``Cluster.sketch``: the epoch (4 bytes), then the two bitmaps."""

    epoch: int
    now: int
    before: int

    @classmethod
    def at(cls, stored: bytes, epoch: int, bits: int) -> _Sketch:
        """The sketch as ``epoch`` sees it: a window later the current bitmap is the one
        before, two later both are gone (so is one stored with another size)."""
        size = bits // 8
        if len(stored) != 4 + 2 * size:
            return cls(epoch, 0, 0)
        then = int.from_bytes(stored[:4], "big")
        now = int.from_bytes(stored[4:4 + size], "big")
        if epoch == then:
            return cls(epoch, now, int.from_bytes(stored[4 + size:], "big"))
        return cls(epoch, 0, now if epoch == then + 1 else 0)

    def stored(self, bits: int) -> bytes:
        size = bits // 8
        return (self.epoch.to_bytes(4, "big") + self.now.to_bytes(size, "big")
                + self.before.to_bytes(size, "big"))


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Cluster)


def stored(cluster: Cluster) -> bytes:
    """What a cluster's home key holds of it (``Put`` keeps bytes as they are)."""
    return _ENCODER.encode(cluster)


def loaded(value: bytes | dict[str, Any]) -> Cluster:
    """The cluster a home key holds, as read (``stored``; or an earlier release's band
    key's, or its JSON)."""
    return _DECODER.decode(value) if value.__class__ is bytes else msgspec.convert(
        value, Cluster)


def taken(value: bytes | dict[str, Any], written: dict[bytes, Cluster]) -> Cluster:
    """The cluster a home key holds (``loaded``), taken from ``written`` when an earlier
    event of the batch put it (``_written``): not decoded again, and no longer there, for
    the taker changes it."""
    if value.__class__ is bytes:
        cluster = written.pop(value, None)
        if cluster is not None:
            return cluster
    return loaded(value)


def _written(ctx: Context) -> dict[bytes, Cluster]:
    """The clusters the batch's events put, by their stored bytes: a campaign's copies
    follow each other, each reading the cluster the one before wrote, and one decode of
    its lists (~100 strings) costs more than the rest of its judgement. A cluster is
    there only as it was put, unchanged (an event that reads one takes it, ``taken``), so
    one read equal to those bytes is that cluster, whichever key it was put under and
    whatever put it there since (a retry plans afresh, with no batch to share). One entry
    a cluster put, dropped with the plans' memo (``engine.PLANS_KEPT`` events, over
    batches of any size)."""
    return shared(ctx, _WRITTEN, dict)


def home(cluster: str) -> str:
    """The key of the cluster's summary (its band keys hold its id)."""
    return f"bulk:c:{cluster}"


@lru_cache(maxsize=8_192)  # ~200 bytes an entry
def _home_read(cluster: str) -> Get:
    """The read of a cluster's home key: one query object an id, whose hash it keeps, for
    a campaign's copies read it at every message."""
    return Get(home(cluster))


def _slot(cluster: str, sender: str, bits: int) -> int:
    """The sender's bit in the cluster's sketch (another cluster, another bit)."""
    return 1 << (zlib.crc32(f"{cluster} {sender}".encode()) % bits)


_SEED = 20261129  # of the MinHash permutations: another seed is another set of band keys
# MurmurHash3's 32-bit finalizer's two multipliers, which datasketch applies to each
# shingle's hash first (``_mixed``).
_MIX1, _MIX2 = 0x85EBCA6B, 0xC2B2AE35
_EMPTY = np.uint32(0xFFFFFFFF)  # a MinHash value no shingle lowered


@cache
def _permutations(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of ``count`` affine permutations h -> a·h + b mod 2**32 (a odd: a bijection),
    drawn as datasketch's ``MinHash(num_perm=count, seed=_SEED)`` draws them, from numpy's
    legacy RandomState (whose stream numpy keeps fixed across versions)."""
    draw = np.random.RandomState(_SEED)
    a = draw.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    return a, draw.randint(0, 1 << 32, count, dtype=np.uint32)


def _words(masked_text: str, unpaired: frozenset[str] = _MASKS) -> list[str]:
    """The words whose pairs are hashed. Not a word: a run of marks with no letter or
    digit ("...", "--", "_"), nor a filler, nor a word said again right after itself
    ("very very": as a filler, it changes no meaning), nor a mask (``_MASKS``: what
    personalises a copy, its value already gone). Each such token a spammer put in per
    copy broke two pairs: 200 copies padded with marks at a quarter of their words met
    15-97 on one band key, with words said twice 150-161 (``review33c``), with numbers
    17-24 and the recipient's own name 36-45 (``padding34``). ``unpaired``: the fillers
    and the masks (``_fillers``)."""
    words: list[str] = []
    for word in _WORD.findall(masked_text):
        if word in unpaired or not word.strip(_MARKS) or (words and words[-1] == word):
            continue
        words.append(word)
    return words


@cache
def _fillers(words: tuple[str, ...]) -> frozenset[str]:
    """The words ``_words`` leaves unpaired: ``BulkSettings.fillers`` as texts' words read
    them (``text.skeleton``), and the masks; folded once per setting, and one object, whose
    hash a frozenset keeps, for ``_cached_text``'s key."""
    return frozenset(skeleton(word) for word in words) | _MASKS


class _Text(NamedTuple):
    """What a text's band keys give every message that carries it: the keys, their read
    (one query per text however often it is sent: it hashes once, as the engine and the
    state look it up) and what the verdict log keeps of them (``Context.keep``)."""

    keys: tuple[str, ...]
    reads: Gets
    kept: bytes


def _text(keys: tuple[str, ...]) -> _Text:
    return _Text(keys, Gets(keys), " ".join(keys).encode())


def text_keys(view: MessageView, names: tuple[str, ...], cfg: BulkSettings
              ) -> tuple[str, ...] | None:
    """The band keys of a message, None when it has too few words to cluster: those of its
    words with what personalises a copy masked out, the recipients' names included
    (``text.masked_for``: a pitch greets each victim)."""
    found = _text_of(view, names, cfg, _fillers(cfg.fillers))
    return found.keys if found is not None else None


def _text_of(view: MessageView, names: tuple[str, ...], cfg: BulkSettings,
             fillers: frozenset[str]) -> _Text | None:
    """``text_keys`` with their reads and kept form, ``fillers`` being ``cfg``'s
    (``_fillers``: the detector folds them once). Spam waves and chat repeat their texts,
    so those of short masked texts are cached (a pure function of the masked text: its
    words, then their MinHash); long texts are not, so hostile input cannot fill memory."""
    text = masked_for(view, names)
    if len(text) <= CACHED_CHARS:
        return _cached_text(text, cfg.min_words, cfg.bands, cfg.rows, fillers)
    keys = _keys(text, cfg.min_words, cfg.bands, cfg.rows, fillers)
    return _text(keys) if keys is not None else None


@lru_cache(maxsize=16_384)  # ~1 KB an entry (six keys, their reads, the kept form): 16 MB
def _cached_text(text: str, min_words: int, bands: int, rows: int, fillers: frozenset[str]
                 ) -> _Text | None:
    keys = _keys(text, min_words, bands, rows, fillers)
    return _text(keys) if keys is not None else None


def _keys(text: str, min_words: int, bands: int, rows: int, fillers: frozenset[str]
          ) -> tuple[str, ...] | None:
    """The band keys of a masked text's words bar its fillers and masks, which count as
    no words toward ``min_words`` either ("so so really ok" is as short as "ok", "call
    # now" as "call now")."""
    words = _words(text, fillers)
    return band_keys(words, bands, rows) if len(words) >= min_words else None


def band_keys(words: Sequence[str], bands: int, rows: int) -> tuple[str, ...]:
    """The LSH band keys of a word sequence (``text_keys`` caches them by text).

    The MinHash of its word pairs (``_mixed``), each value the least a·h + b mod 2**32
    over them: what datasketch's affine32 ``MinHash.update_batch`` computes, in one
    (pairs × values) array product, O(pairs × bands × rows): half the time of building
    and checking a datasketch object per text. Each band's key is the CRC-32 of its
    values as 64-bit words, in eight hex digits (its four bytes' ``hex``, big-endian:
    what ``%08x`` writes, at a third of its cost). The least over the pairs is numpy's
    ``minimum.reduce`` (``ndarray.min`` calls it through a Python function).

    The product is made in 64 bits with each permutation shifted up 32 (``_affine``):
    (a·2**32)·h + b·2**32 mod 2**64 is (a·h + b mod 2**32)·2**32, so the values come out
    in their 64-bit words' high halves, and the bytes of the words as the CRCs read them
    (value, then four zero bytes) start four bytes in: the lanes are read as they are (no
    ``[::2]``) and the least values not cast (no ``astype``), ~2,900 instructions fewer a
    new text, every key the same (``bands45``, docs/speed-log.md)."""
    a, b = _affine(bands * rows)
    if len(words) > 1:
        values = np.multiply.outer(_mixed(words), a)
        values += b
        raw = np.minimum.reduce(values).tobytes()
    else:
        raw = _untouched(bands * rows)
    return tuple([prefix + zlib.crc32(raw[part]).to_bytes(4, "big").hex()
                  for prefix, part in _band_parts(bands, rows)])


@cache
def _affine(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``_permutations``' (a, b) in 64 bits, shifted up 32 (``band_keys``), and one more of
    each, 0: its value is 0 whatever the pairs, the four zero bytes after the last value's
    (the values' bytes are read from four bytes in)."""
    shift, zero = np.uint64(32), np.zeros(1, np.uint64)
    a, b = (np.concatenate((part.astype(np.uint64) << shift, zero))
            for part in _permutations(count))
    return a, b


@cache
def _untouched(count: int) -> bytes:
    """``band_keys``' bytes of a MinHash no pair lowered (every value ``_EMPTY``)."""
    return bytes(4) + np.full(count, _EMPTY, np.uint64).tobytes() + bytes(4)


@cache
def _band_parts(bands: int, rows: int) -> tuple[tuple[str, slice], ...]:
    """Each band's key prefix and its slice of the values' bytes (``band_keys``: four bytes
    in): made once a setting, not formatted and sliced by number at every new text."""
    width = rows * 8
    return tuple((f"bulk:{i}:", slice(i * width + 4, (i + 1) * width + 4))
                  for i in range(bands))


# A 64-bit lane of ``_mixed``'s integer: its low 32 bits hold a pair's hash.
_LANE = (0xFFFFFFFF).to_bytes(8, "little")
_LANES = np.dtype("<u8")  # as ``to_bytes`` wrote them: each a hash, its high half zero


def _mixed(words: Sequence[str]) -> np.ndarray:
    """The hash of each of the words' pairs, as datasketch feeds its permutations: the
    CRC-32 of the pair mixed by MurmurHash3's 32-bit finalizer (x ^= x >> 16; x *= _MIX1;
    x ^= x >> 13; x *= _MIX2; x ^= x >> 16, mod 2**32).

    All the pairs are mixed at once, in one Python integer of a 64-bit lane a pair (the
    hash in a lane's low half): a right shift moves the next lane's low bits into this
    lane's high half only, which the lanes' mask clears, and a product of two 32-bit
    numbers fits its 64-bit lane, so no carry crosses into the next. Eight integer
    operations, each in C over the text's lanes (O(pairs)), in place of numpy's eight
    array operations (~4,000 instructions each, whatever the length) or a Python
    function a pair behind a cache of pairs (session 43's, which new texts mostly
    missed): with ``_words``' and ``band_keys``' cuts, a new text's keys ~205,600 →
    ~161,200 instructions on a platform's texts (``cold44``, docs/speed-log.md)."""
    pairs = len(words) - 1
    mask = int.from_bytes(_LANE * pairs, "little")
    hashed = int.from_bytes(array.array("Q", [zlib.crc32(f"{x} {y}".encode())
                                              for x, y in itertools.pairwise(words)]).tobytes(),
                            sys.byteorder)
    hashed ^= hashed >> 16 & mask
    hashed = hashed * _MIX1 & mask
    hashed ^= hashed >> 13 & mask
    hashed = hashed * _MIX2 & mask
    hashed ^= hashed >> 16 & mask
    return np.frombuffer(hashed.to_bytes(8 * pairs, "little"), _LANES)


@lru_cache(maxsize=8_192)  # a few MB at most
def _reads(keys: tuple[str, ...]) -> Gets:
    """The read of a reported message's band keys (as its log entry kept them)."""
    return Gets(keys)


class _Plan(msgspec.Struct, frozen=True):
    """A message's or a report's reads (``BulkDetector._make_plan``): a struct, made in C
    (a NamedTuple's ``__new__`` is a Python lambda's frame)."""

    keys: tuple[str, ...]
    reads: Gets  # the band keys' (one query: ``ops.Gets``)
    queries: tuple[Query, ...]  # all the event reads: ``reads``, then ``ties`` and ``back``
    ties: tuple[Contains, Contains] | None = None  # messages: ``accounts.ties``
    back: tuple[Contains, ...] = ()  # messages: ``accounts.listed_back``
    # A half utterance's: its account's turn (``turns.read``), deferred (``_turn``).
    turn: Get | None = None


_NO_BANDS = Gets(())  # a site given alone reads no band (``_site_alone``)


def _bands_only(keys: tuple[str, ...]) -> _Plan:
    """A report's plan: the band keys' reads are all it reads."""
    bands = _reads(keys)
    return _Plan(keys, bands, (bands,))


def decay_factor(since: float, now: float, half_life: float) -> float:
    """What a count kept since ``since`` is worth at ``now`` (one power for all of a
    cluster's counts, which share their time)."""
    return math.pow(0.5, max(0.0, now - since) / half_life)


def decayed(value: float, since: float, now: float, half_life: float) -> float:
    return value * decay_factor(since, now, half_life)


class _Read(msgspec.Struct, frozen=True):
    """What a message makes of its cluster as read (``BulkDetector._read``): a struct, made
    in C."""

    cluster: Cluster | None  # the cluster the message joins, None for a text new to state
    fresh: int  # its recipients new to the cluster ...
    strangers: int  # ... of whom this many are strangers to the sender
    arrival: float  # what its sender adds to the cluster's count of senders
    # Whether its sender is on the cluster's list of recent senders: asked by ``detect``
    # and ``writes`` too, and a list of up to ``max_senders`` ids is searched id by id
    # (a campaign rotating its bots misses it at nearly every copy).
    listed: bool
    # What the cluster's counts are worth at the message's time (``decay_factor``), for
    # ``detect`` and ``writes`` alike: 1.0 for a new cluster, whose counts start at it.
    decay: float


# The event's scratch entries of ``cluster`` (a report's) and ``_read`` (a message's; its
# plan's is the name's).
_CLUSTER, _READ = "bulk:cluster", "bulk:read"
_SKETCH = "bulk:sketch"  # the event's scratch entry of ``_sketch``
_WRITTEN = "bulk:written"  # the memo's entry of the clusters its events put (``_written``)


class BulkDetector(Planning[_Plan | None]):
    name = "bulk"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, BulkSettings, given)
        # Its fillers as texts' words read them, folded once here, not at every message
        # (the cache of ``_fillers`` hashed the tuple of them each time).
        self.fillers = _fillers(self.cfg.fillers)
        # The takeover detector's own judgement of the session (``BULK_UNPROVEN_SESSIONS``):
        # its memo when it planned the event (it plans first: no read more), else the
        # account's record alone (``plan_session``), as sealed_bulk asks it.
        self.takeover = TakeoverDetector(dict(config.detectors.get("takeover", {})), config)

    def _make_plan(self, ctx: Context) -> _Plan | None:
        # A message told by the context's own ``message``: a failing ``isinstance`` on an
        # event class costs a metaclass call (``test_engine_kinds``). A report by
        # ``isinstance``: an operator's decision is one (``trust.OperatorDecision``).
        message, event = ctx.message, ctx.event
        if message is not None and ctx.view is not None:
            found = _text_of(ctx.view, ctx.names, self.cfg, self.fillers)
            turn = turns.read(ctx, found is not None)
            if turn is not None:  # read only for a doubted session (``_turn``)
                ctx.deferred += (turn,)
            if found is None:
                if turn is None:
                    return None
                # A site given alone: the session's judgement, then perhaps its turn.
                return _Plan((), _NO_BANDS, tuple(self.takeover.plan_session(ctx)),
                             turn=turn)
            ctx.keep[self.name] = found.kept
            bands, (ties, back) = found.reads, shared_ties(ctx, message)
            session = self.takeover.plan_session(ctx) if message.session else ()
            return _Plan(found.keys, bands, (bands, *ties, *back, *session), ties, back, turn)
        if message is not None or not isinstance(event, Report):
            return None
        if ctx.reported and self.name in ctx.reported.keep:
            return _bands_only(tuple(ctx.reported.keep[self.name].decode().split()))
        if sealed(ctx.reported) and event.text.strip():
            # An encrypted message, never clustered: its reporter's client sent the words.
            keys = text_keys(view(event.text), names_of((event.reporter,)), self.cfg)
            return _bands_only(keys) if keys is not None else None
        return None

    def reads(self, ctx: Context) -> Sequence[Query]:
        plan = self._plan(ctx)
        return plan.queries if plan else ()

    def cluster(self, ctx: Context, plan: _Plan, facts: Facts) -> Cluster | None:
        """The cluster of the band with the most (decayed) messages, if any band is known.

        Read and decoded once per event (in ``detect``, while reads are made), and once
        per distinct id (the bands of one text mostly hold the same); ``writes`` updates
        the same object."""
        if ctx.message is not None:
            return self._read(ctx, plan, facts).cluster
        return once(ctx, _CLUSTER, self._decoded, ctx, plan, facts)

    def _decoded(self, ctx: Context, plan: _Plan, facts: Facts) -> Cluster | None:
        """The clusters the bands name, their summaries read from their homes
        (``read_more``). A band an earlier release wrote holds a summary: a cluster of its
        own id, unless that id's home was written since (then fresher)."""
        values = facts[plan.reads]
        first = values[0]
        if values.count(first) == len(values):  # one id for the six bands, most often
            if not first:
                return None
            held = [first]
        else:
            held = []
            for value in values:
                if value and value not in held:  # a list: an earlier release's JSON is a dict
                    held.append(value)
        homes = [_home_read(value) for value in held if value.__class__ is str]
        read_more(ctx, homes)
        written = _written(ctx)
        found = [taken(value, written) for value in map(facts.get, homes) if value]
        if len(homes) < len(held):
            ids = {cluster.id for cluster in found}
            found += [cluster for cluster in (loaded(value) for value in held
                                              if value.__class__ is not str)
                      if cluster.id not in ids]
        if len(found) < 2:
            return found[0] if found else None
        now, half = ctx.event.ts, self.cfg.half_life
        return max(found, key=lambda c: (decayed(c.messages, c.last, now, half), -c.first))

    def _read(self, ctx: Context, plan: _Plan, facts: Facts) -> _Read:
        """The message's cluster and what the message adds to it, as the cluster was read:
        once per event, for ``detect`` and ``writes`` alike (``writes`` changes the same
        cluster object afterwards)."""
        found: _Read | None = ctx.scratch.get(_READ)
        if found is None:
            found = ctx.scratch[_READ] = self._make_read(ctx, plan, facts)
        return found

    def _make_read(self, ctx: Context, plan: _Plan, facts: Facts) -> _Read:
        message = ctx.message
        assert message is not None
        cluster = self._decoded(ctx, plan, facts)
        if cluster is None:  # the first copy: every recipient is new, and so is its sender
            return _Read(None, *self._count_fresh(ctx, (), plan, facts), 1.0, False, 1.0)
        listed = message.sender in cluster.senders
        return _Read(cluster, *self._count_fresh(ctx, cluster.seen, plan, facts),
                     self._count_arrival(ctx, cluster, message, listed), listed,
                     decay_factor(cluster.last, message.ts, self.cfg.half_life))

    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        plan = self._plan(ctx)
        message = ctx.message
        if plan is None:
            return []
        if message is None:  # a report: its cluster is read now, while reads are made
            self.cluster(ctx, plan, facts)
            return []
        self._turn(ctx, facts, plan)  # read now, if at all: ``writes`` may need it
        if not plan.keys:
            return self._site_alone(ctx, facts, plan)
        read = self._read(ctx, plan, facts)
        cluster = read.cluster
        if cluster is None:
            return []
        ctx.cluster = cluster.id
        ctx.campaign = cluster.campaign or bool(cluster.confirmed)
        cfg = self.cfg
        found: list[Signal] = []
        if cluster.confirmed:
            found.append(Signal("CAMPAIGN_CONFIRMED", 1.0, "a near-duplicate of messages "
                                f"{len(cluster.reporters)} users reported as spim"))
        # The list holds each sender once (``writes`` moves a sender already on it last).
        senders = len(cluster.senders) + (not read.listed)
        # The cluster's shape with this message, decayed: recipients, recipients per
        # sender, share of strangers.
        decay = read.decay
        recipients = cluster.recipients * decay + read.fresh
        per_sender = recipients / max(1.0, cluster.sender_count * decay + read.arrival)
        strangers = (min(1.0, (cluster.strangers * decay + read.strangers) / recipients)
                     if recipients else 0.0)
        strength = max(ramp(senders, cfg.senders_soft, cfg.senders_hard),
                       ramp(recipients, cfg.recipients_soft, cfg.recipients_hard))
        if strength:
            strength *= max(ramp(per_sender, cfg.reach_soft, cfg.reach_hard), strangers)
        if strength:
            found.append(Signal("BULK_NEAR_DUPLICATE", strength,
                                f"the same text from {senders} accounts to about "
                                f"{recipients:.0f} recipients, {per_sender:.1f} each, "
                                f"{strangers:.0%} of them strangers"))
        if cluster.unproven and message.session and (
                sites(ctx.view) or self._joined_site(ctx, facts, plan)):
            others = self._others(cluster, message, senders)
            if others and self._pitching(ctx, facts):
                found.append(Signal("BULK_UNPROVEN_SESSIONS", 1.0,
                                    f"the same words with a site from unproven sessions of "
                                    f"{others} other accounts, {others + 1} of its {senders} "
                                    "recent senders"))
        return found

    def _turn(self, ctx: Context, facts: Facts, plan: _Plan) -> Get | None:
        """The read of the account's turn, made (``read_more``) when a half utterance comes
        from a session the takeover detector doubts (its ``risk``), else None: only such a
        session's half is written (``writes``: SESSION_UNFAMILIAR, which the risk is the
        first condition of) or can be judged by its other half (``_pitching``: the risk
        again), so a half from any other session has nothing to read it for, and the
        answers are those of reading it always. Nearly every half is one (0 of 2,276 in
        the 150 users' mixed load were doubted): ~0.7 reads an event saved (session 35,
        ``small35``). Asked first in ``detect``, while reads are made; ``writes`` finds
        it in the facts."""
        turn = plan.turn
        if turn is None or not self.takeover.sender_session(ctx, facts).get("risk"):
            return None
        read_more(ctx, (turn,))
        return turn

    def _joined(self, ctx: Context, facts: Facts, plan: _Plan) -> turns.Joined | None:
        turn = self._turn(ctx, facts, plan)
        return (turns.joined(ctx, facts, turn, self.cfg.turn_window)
                if turn is not None else None)

    def _joined_site(self, ctx: Context, facts: Facts, plan: _Plan) -> bool:
        """Whether the session gave the message's recipient a site alone just before its
        words (``turns``): to its reader, one message with a site."""
        joined = self._joined(ctx, facts, plan)
        return joined is not None and joined.half is not None

    def _site_alone(self, ctx: Context, facts: Facts, plan: _Plan) -> list[Signal]:
        """BULK_UNPROVEN_SESSIONS on a site given alone, when the words of its utterance
        were the hand's as they were sent (``turns.continued``): the pitch cut in two is
        still one message with a site to its reader."""
        joined = self._joined(ctx, facts, plan)
        others = turns.continued(joined) if joined is not None else 0
        if not others or not self._pitching(ctx, facts):
            return []
        return [Signal("BULK_UNPROVEN_SESSIONS", 1.0,
                       "a site alone, of one pitch with the words the session gives with it, "
                       f"words with a site from unproven sessions of {others} other accounts")]

    def _others(self, cluster: Cluster, message: Message, senders: int) -> int:
        """BULK_UNPROVEN_SESSIONS: the message gives a site from a session the takeover
        detector judges unproven (unfamiliar, not answering its friends), and other
        accounts' unproven sessions sent these words with a site too, the most of the
        cluster's recent senders (``unproven_others``, ``unproven_share``).

        The principle: whoever sends the same pitch from several accounts' sessions that
        none of their owners ever proved theirs (a new app or network, no conversation) is
        one hand in many accounts, the founding case: a seller signed in to its victims.
        Friends forwarding a chain text or sharing one event's link do it from their own
        phones, proven by days of use; a brand's broadcast comes from its own account. A
        new phone now and then among them leaves the unproven a small share of the
        recent senders, however many forward it. Answered by the owner's second factor:
        a hold on it rests on doubt about the session (``policy.rests_on_doubt``).

        The other accounts whose unproven sessions sent the cluster's words with a site,
        0 unless they are enough (``unproven_others``) and the most of its recent
        ``senders``; the session's own part is ``_pitching``'s."""
        others = sum(1 for account in cluster.unproven if account != message.sender)
        cfg = self.cfg
        if others < cfg.unproven_others or (others + 1) < cfg.unproven_share * senders:
            return 0
        return others

    def _pitching(self, ctx: Context, facts: Facts) -> bool:
        """Whether the message's session is unproven (the takeover detector's risk, not
        answering its friends) and its account's unproven sessions delivered
        ``unproven_sent`` messages with a site in the day (``BULK_UNPROVEN_SESSIONS``)."""
        session = self.takeover.sender_session(ctx, facts)
        if not session.get("risk") or self.takeover.conversing(session):
            return False
        return self.takeover.session_sent(ctx, facts) >= self.cfg.unproven_sent

    @staticmethod
    def _count_fresh(ctx: Context, seen: Sequence[str], plan: _Plan, facts: Facts
                     ) -> tuple[int, int]:
        """(recipients not among the cluster's ``seen``, how many of them are strangers to
        the sender)."""
        assert plan.ties is not None
        recipients = ctx.to
        fresh: tuple[str, ...]
        if len(recipients) == 1:  # most messages: nothing to dedupe, no set of ``seen``
            if recipients[0] in seen:
                return 0, 0
            fresh = recipients
        elif seen:
            known = set(seen)
            fresh = tuple([r for r in dict.fromkeys(recipients) if r not in known])
            if not fresh:
                return 0, 0
        else:
            fresh = tuple(dict.fromkeys(recipients))
        # A tuple: when every recipient is new (most copies), it is the ties' own people,
        # whose standing is read off the ties without sorting any out (``standing``).
        # One copy to a handful of people its sender only lists is no stranger evidence in
        # a message's own judgement, but a cluster's is the sum of its copies: bots that
        # each list their few targets add up to a campaign no recipient vouched for.
        found = accounts.standing(fresh, plan.ties, facts, plan.back)
        return len(fresh), len(found.strangers) + len(found.unvouched)

    def _sketch(self, ctx: Context, cluster: Cluster, now: float) -> _Sketch:
        """The cluster's sketch as read, at the event's time: unpacked once per event, for
        ``_count_arrival`` and ``_sketched`` alike (a campaign rotating its bots asks both
        at nearly every copy)."""
        return once(ctx, _SKETCH, _Sketch.at, cluster.sketch,
                    int(now // self.cfg.sender_window), self.cfg.sketch_bits)

    def _count_arrival(self, ctx: Context, cluster: Cluster, message: Message,
                       listed: bool) -> float:
        """0 for a sender the cluster knows (``listed``: on its list of recent senders, as
        ``_Read`` has it; or in its sketch), else the linear-counting share of one (module
        docstring)."""
        if listed:
            return 0.0
        if not cluster.sketch:
            return 1.0
        sender, bits = message.sender, self.cfg.sketch_bits
        sketch = self._sketch(ctx, cluster, message.ts)
        held = sketch.now | sketch.before
        free = bits - held.bit_count()
        if 8 * free < bits:
            return 1.0  # too full to tell a sender it holds from one it does not
        return 0.0 if held & _slot(cluster.id, sender, bits) else bits / free

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        plan = self._plan(ctx)
        if plan is None:
            return ()
        event = ctx.message
        if event is None:
            report = ctx.event
            assert isinstance(report, Report)
            return self._reported(report, ctx, plan, self.cluster(ctx, plan, facts))
        cfg = self.cfg
        unproven = "SESSION_UNFAMILIAR" in outcome.signals
        if not plan.keys:
            return self._turned(ctx, facts, plan, "", 0) if unproven else ()
        read = self._read(ctx, plan, facts)
        cluster = read.cluster
        others = (self._others(cluster, event, len(cluster.senders) + (not read.listed))
                  if cluster is not None and unproven and plan.turn is not None else 0)
        if cluster is None:
            # Named by its first band and its start: a band a day unwritten is gone while
            # its cluster lives on through other bands, and a text through it anew must not
            # start a cluster under the live one's home (whose counts it would reset).
            cluster = Cluster(id=plan.keys[0].removeprefix("bulk:").replace(":", "-")
                              + f"-{int(event.ts):x}",
                              first=float(event.ts), last=float(event.ts))
        decay = read.decay
        cluster.messages = cluster.messages * decay + 1
        cluster.recipients = cluster.recipients * decay + read.fresh
        if read.fresh == len(event.recipients):  # all new to the cluster, as most copies'
            kept = cluster.seen
        else:
            recipients = set(event.recipients)
            kept = list(itertools.filterfalse(recipients.__contains__, cluster.seen))
        cluster.seen = [*kept, *event.recipients][-cfg.max_recipients:]
        cluster.familiar = cluster.familiar * decay + ("FAMILIAR_SENDER" in outcome.signals)
        cluster.sender_count = cluster.sender_count * decay + read.arrival
        cluster.strangers = cluster.strangers * decay + read.strangers
        cluster.last = max(cluster.last, float(event.ts))  # a float, not events.EventTime
        if read.listed:
            cluster.senders.remove(event.sender)
        senders = [*cluster.senders, event.sender]
        cluster.senders = senders[-cfg.max_senders:]
        if len(senders) > cfg.max_senders:
            self._sketched(ctx, cluster, senders[:-cfg.max_senders], event.ts)
        cluster.campaign = cluster.campaign or bool(outcome.campaign)
        if unproven and (sites(ctx.view) or self._gave_site(ctx, facts, plan, cluster.id)):
            if event.sender in cluster.unproven:
                cluster.unproven.remove(event.sender)
            cluster.unproven = [*cluster.unproven, event.sender][-cfg.max_senders:]
        # Words an unproven session sent with a site are kept as a cluster's, a day: the
        # seller's next victim may come hours later (a pitch 11 min apart takes 4 hours).
        ttl = (cfg.cluster_ttl if cluster.messages > 1.5 or cluster.unproven
               else cfg.singleton_ttl)
        put = _put(ctx, plan, cluster, ttl)
        return (*put, *self._turned(ctx, facts, plan, cluster.id, others)) if unproven else put

    def _gave_site(self, ctx: Context, facts: Facts, plan: _Plan, cluster: str) -> bool:
        """Whether the session gave the words of a message with no site with a site, as
        its reader reads them (``turns.gave_site``): learnt as words sent with a site."""
        joined = self._joined(ctx, facts, plan)
        return joined is not None and turns.gave_site(joined, cluster)

    def _turned(self, ctx: Context, facts: Facts, plan: _Plan, cluster: str,
                others: int) -> tuple[Write, ...]:
        """The account's turn after an unproven session's half utterance (``turns.written``)."""
        joined = self._joined(ctx, facts, plan)
        if joined is None or plan.turn is None:
            return ()
        cfg = self.cfg
        return (turns.written(ctx, plan.turn, joined, cluster, others, cfg.turn_window,
                              cfg.turn_recipients, cfg.cluster_ttl),)

    def _sketched(self, ctx: Context, cluster: Cluster, pushed: list[str], now: float
                  ) -> None:
        """Keep the senders ``pushed`` off the cluster's list in its sketch."""
        bits = self.cfg.sketch_bits
        sketch = self._sketch(ctx, cluster, now)
        added = sketch.now
        for sender in pushed:
            added |= _slot(cluster.id, sender, bits)
        cluster.sketch = _Sketch(sketch.epoch, added, sketch.before).stored(bits)

    def _reported(self, event: Report, ctx: Context, plan: _Plan,
                  cluster: Cluster | None) -> list[Write]:
        """A spam report's weight on the cluster, and confirmation once it is enough."""
        weighing = ctx.trust
        gained = weighing.spam_after - weighing.spam_before if weighing else 0.0
        if cluster is None or gained <= 0 or cluster.confirmed:
            return []
        if sealed(ctx.reported) and (ctx.reported is None
                                     or ctx.reported.account not in cluster.senders):
            # The words are the reporter's claim: they count toward a cluster only when
            # the encrypted message's sender also sent that cluster's words in the clear.
            return []
        cfg = self.cfg
        if event.reporter not in cluster.reporters:
            cluster.reporters = [*cluster.reporters, event.reporter][-cfg.max_senders:]
        cluster.weight += gained
        now, half = event.ts, cfg.half_life
        decay = decay_factor(cluster.last, now, half)
        volume = cluster.messages * decay
        familiar = min(1.0, cluster.familiar * decay / max(volume, 1))
        bar = 1 + (cfg.confirm_familiar - 1) * familiar
        out: list[Write] = []
        if (len(cluster.reporters) >= cfg.confirm_reporters * bar
                and cluster.weight >= cfg.confirm_reporters * bar
                and cluster.weight >= cfg.confirm_share * bar * volume):
            cluster.confirmed = "report"
            cluster.campaign = True
            out.extend(trust.agreed(r) for r in cluster.reporters)
        out.extend(_put(ctx, plan, cluster, cfg.cluster_ttl))
        return out


def _put(ctx: Context, plan: _Plan, cluster: Cluster, ttl: float) -> tuple[Puts, Put]:
    """The writes of a cluster an event changed: its id under the text's bands, its
    summary under its home (kept for the batch's next reader, ``_written``). Home and bands
    are written with one TTL, never shorter than the home's as last written (``kept``):
    other texts' bands name it until then, and a band must never outlive the home it
    names. Without it, one copy sent once the counts have decayed (``singleton_ttl``)
    cut a reported campaign's home to an hour, and its confirmation with it, while its
    bands lived on for the day (session 34, ``review34c``)."""
    now = float(ctx.event.ts)
    ttl = max(ttl, cluster.kept - now)
    cluster.kept = now + ttl
    value = stored(cluster)
    _written(ctx)[value] = cluster
    return Puts(plan.keys, cluster.id, ttl), Put(home(cluster.id), value, ttl)


def build(given: dict[str, Any], config: Config) -> BulkDetector:
    return BulkDetector(given, config)
