"""The state keys the takeover detector counts in besides the account's record: what a
burst counts (contacts written to per session and per pitch, in a window) grows with an
attack up to ``burst_cap``, so it stays in member sets and counters of its own.

A session's keys write its id, and a pitch its domain, with no ":" (``ops.key_part``):
both are chosen outside (a client names its session; an account's id holds ":" on
Matrix), and written as they are ``@a:s``'s session ``x:1`` and ``@a:s:x``'s session ``1``
counted their bursts in one key, one account's intruder filling another's counts. What
follows the session is a pitch (``d:`` and a domain, or the text's 16-hex fingerprint,
or nothing for a sealed text) or a size class: never a part the other could be."""

from __future__ import annotations

import re
from functools import lru_cache

from ... import accounts, lists
from ...state.ops import guest_key, guest_keyspace, key_part, renamed_sets, sided_keyspace
from ...text import MessageView, size_class
from ...urlmodel import features as url_features
from .settings import TakeoverSettings

# Every prefix of the detector's keys under "tk:" but its account record's (``record.key``,
# "tk:<account>"), and of the sets they were kept in before: another keyspace's keys, never
# the record's, wherever a backend keeps the record (``ops.lodged_keyspace``).
# "tk:heard:" is retired (session 36: who heard from the account is its ties' ``TALKED``
# side, ``accounts.heard``) and stays: a store upgraded holds its keys for one
# ``reply_window`` more (never read, swept as they expire), and ``record.key`` writes an
# id starting "heard:" apart from them, which is the record's stored key.
OTHERS = ("tk:to:", "tk:text:", "tk:fp:", "tk:shape:", "tk:session:", "tk:heard:",
          "tk:doubted:", "tk:life:", "tk:pals:", "tk:wrote:", "tk:recip:")


def sites(view: MessageView | None) -> tuple[str, ...]:
    """The sites a message sends people to: its links' domains and the sites it writes
    apart for the reader to retype (``MessageView.apart_sites``: "tones-shop•biz",
    "tones-shop. biz/r?u=1"), which a seller's pitch needs no less than a link typed. Both,
    never the second only where the first is empty: a video's link typed beside the site
    written apart made the pitch the video's, popular (review, session 30: 28 of 40
    reached). And the numbers that bill whoever answers them which it tells the reader to
    use (``MessageView.calls``: "sms:80888" for "text TONES to 80888", "tel:44906..."): a
    pitch must say where to act, and the ringtone seller's premium short code is its
    address as a link is another's (code49: 40 of 40 such pitches from the owner's /24
    delivered). None is a domain (":"), nor on the popular list."""
    if view is None:
        return ()
    # apart_sites holds none of domains (text.py); calls none of either
    return view.domains + view.apart_sites + view.calls


@lru_cache(maxsize=4_096)
def _sold(site: str) -> str:
    """What a seller cannot vary of a site: the site, but for a user's own name under a
    free host or dynamic DNS (``urlmodel.features.service``: "tones7.github.io"), which
    it registers free per pitch; that service's name then ("github.io"). A pitch per
    free name reached 28 of 40 friends as a site per pitch (review, session 30)."""
    kind, name = url_features.service(site, "")
    return name if kind else site


def pitch(view: MessageView | None) -> str:
    """What a session repeats when it pitches: the site's domain (``sites``: sellers vary
    the words per recipient, never the site they sell; ``_sold``), else the text's
    fingerprint. A number that bills whoever answers it (``MessageView.calls``) before any
    domain: the seller leases the number, and a domain named beside it costs nothing to
    vary (a popular one per pitch, "(better than amazon.com)", sorted before "sms:" and
    made each pitch a set of its own: 16 of 40 delivered, review49)."""
    if view is None:
        return ""
    where = view.calls or sites(view)
    return f"d:{key_part(min(map(_sold, where)))}" if where else view.fingerprint


def burst(account: str, session: str) -> str:
    """Dormant ties the session wrote to in the burst window."""
    return f"tk:to:{account}:{key_part(session)}"


def text(account: str, session: str, view: MessageView | None) -> str:
    """Contacts the session sent this pitch to in the burst window: the ``LIFE`` side of a
    guest lodged in the account's ties (``_LIFELONG``), touched with ``burst_window`` (its
    record holds its head: not the side's declared TTL). Its name is the session's as
    ``lifelong`` writes it, "%p", then the pitch with no ":" (``ops.key_part``): a session's
    name holds a "%" only before "25" or "3A", so "%p" ends it and none is a session's
    record or another's pitch (``PITCHED``). Where a key of its own cost ~300 bytes (its
    name, slot and object for a few members), a guest costs its name and members."""
    return f"{guest_key(_LIFELONG, account, session)}{PITCHED}{key_part(pitch(view))}"


def spread(account: str, site: str) -> str:
    """Contacts and correspondents the account's sessions nothing proves the owner's sent
    ``site`` (as ``_sold``) to over a session's life, all of them together: the ``LIFE``
    side of a guest lodged in the account's ties, as ``unproven`` is. Its name starts with
    "%d" (``SPREAD``), which no session's name can (``ops.key_part`` writes a "%" of one as
    "%25") nor another guest's ("%p" follows a session's, "%u", "%l", "%s" the others)."""
    return f"{guest_key(_LIFELONG, account, '')}{SPREAD}{key_part(site)}"


# What a pitch's guest names start with (``text``, ``spread``): "%" then a letter no other
# guest's name holds there (``unproven``'s "%unproven", ``linked``'s "%links", ``sought``'s
# "%sought", ``shares``' "%shares"; a session's name holds "%" only as "%25" or "%3A").
PITCHED = "%p"
SPREAD = "%d"


def spread_sites(view: MessageView | None) -> tuple[tuple[str, ...], int]:
    """Every site a message sends people to, as a seller cannot vary it (``_sold``), each
    once, the sites on no popular list (``lists.well_known``) first: its pitch is counted
    under each (``spread``), not under one chosen from them (``pitch``'s least), for a
    name never registered costs nothing, and a new one beside the site in every pitch
    ("cheap-tones.biz (not aa7.com lol)") made each pitch a new site (session 31: 28 of 40
    reached). Bounded by what the view reads of a text (``text.MAX_URLS`` links). With
    how many are on no popular list."""
    where = sites(view)
    if not where:
        return (), 0
    popular = lists.well_known()
    sold = dict.fromkeys([_sold(s) for s in where if s not in popular])
    unlisted = len(sold)
    sold.update(dict.fromkeys([_sold(s) for s in where if s in popular]))
    return tuple(sold), unlisted


def linked(account: str) -> str:
    """Contacts and correspondents the account's sessions nothing proves the owner's sent a
    link to, whatever the site, over a session's life, all of them together: how far they
    share, which a site per pitch does not change. Its ``LIFE`` side, lodged as ``sought``
    is (every link of a risky session touches it: a key of its own cost ~90 bytes an
    account where a lodged side costs the people it adds)."""
    return guest_key(_LIFELONG, account, "") + "%links"


def sought(account: str) -> str:
    """Everyone the account's sessions nothing proves the owner's wrote to first (a
    message that reached them and answered nobody who had just written) over a session's
    life: whether one who writes to the account answers them, or wrote unprompted
    (``TakeoverDetector._asked``). Its ``LIFE`` side, lodged as ``unproven`` is: every
    message of a risky session touches it, and a key of its own cost an account with one
    ~230 bytes where a lodged side costs the people it adds (``benchmarks/memory.py``)."""
    return guest_key(_LIFELONG, account, "") + "%sought"


def same_text(account: str, session: str, view: MessageView | None) -> str:
    """Messages of this very text (fingerprint) from the session."""
    return f"tk:fp:{account}:{key_part(session)}:{view.fingerprint if view else ''}"


def shape(account: str, session: str, size: int) -> str:
    """Encrypted messages of this size class from the session."""
    return f"tk:shape:{account}:{key_part(session)}:{size_class(size)}"


# What a session wrote to over its life, as one sided record (``state/sided.py``): the
# slow burst reads both sides of every message of an unfamiliar session and the same
# message touches both, nearly always for the same few people. They were two sets of
# their own (``tk:life:``, ``tk:pals:``), converted into the record's sides when a store
# opens. Not in the account's record (``record``): up to ``burst_cap`` names a side, chosen
# by whoever sends from the session, would be rewritten whole with every event, where a
# side's touch costs the people it adds; nor in ``accounts``' ``acct:`` record, which
# holds what the engine keeps of the account, not what one detector keeps of a session.
LIFE = "session-dormant"  # dormant ties the session wrote to over its life
PALS = "session-pals"  # correspondents the session wrote to over its life
# Lodged in the account's ties (``ops.guest_keyspace``): an account's few sessions cost a
# key each where the ties already are one. Both sides are touched with ``session_ttl``
# (``shares``' with ``pitch_trust_after``): its default is the declared TTL, so a record
# holds no head where it is the setting (``ops.sided_keyspace``).
_SESSION_TTL = float(TakeoverSettings().session_ttl)
_LIFELONG = guest_keyspace(sided_keyspace("tk:session:", {LIFE: "tk:life:", PALS: "tk:pals:"},
                                          ttls={LIFE: _SESSION_TTL, PALS: _SESSION_TTL}),
                           accounts.tie_record(""))


# What ``ops.key_part`` writes: "%" only before "25" or "3A". A session or site part of
# an old pitch set that is not (a raw id, as keys held before session 34: "x%pd%3Aevil")
# names nothing a reader of this release asks for, and lodged as a guest it would take a
# host's room until it died: dropped (review36b).
_WRITTEN = re.compile(r"(?:[^%]|%25|%3A)*")


def _pitched(part: str) -> str | None:
    """The guest's key (``text``, ``spread``) of the pitch set an earlier release kept at
    "tk:text:" + ``part``: ``<account>:<session>:d:<site>`` (a session's pitch, as only a
    message with a link keeps one) or ``<account>:%unproven:d:<site>`` (the spread's),
    each part after the account written with no ":" (``key_part``), so the last three
    ":" part them whatever the account's id holds. None for any other (none was written):
    dropped."""
    parts = part.rsplit(":", 3)
    if (len(parts) != 4 or parts[2] != "d" or not parts[0]
            or not _WRITTEN.fullmatch(parts[3])
            or not (parts[1] == "%unproven" or _WRITTEN.fullmatch(parts[1]))):
        return None
    account, session, _, site = parts
    if session == "%unproven":
        return f"{guest_key(_LIFELONG, account, '')}{SPREAD}{site}"
    return f"{_LIFELONG}{account}:{session}{PITCHED}{key_part('d:' + site)}"


# Lodged in the account's ties since session 36: converted when a store opens (README,
# "Upgrading to session 36's release").
renamed_sets("tk:text:", _pitched, LIFE)


def lifelong(account: str, session: str) -> str:
    """Whom the session wrote to over its life: name the side (``LIFE``, ``PALS``). Lodged
    in ``account``'s ties whatever characters either id holds (``ops.guest_key``)."""
    return guest_key(_LIFELONG, account, session)


def unproven(account: str) -> str:
    """Whom the account's sessions nothing proves the owner's wrote to, all of them
    together, over a session's life: name the side (``LIFE``, ``PALS``). Lodged as a guest
    no session is: its name starts with a "%" that ``ops.key_part`` writes as "%25" in every
    session id, so no client can name its session into it."""
    return guest_key(_LIFELONG, account, "") + "%unproven"


def wrote(account: str) -> str:
    """Whom the owner wrote to, the account's one-way record: its ties' ``OWNER_WROTE`` side."""
    return accounts.tie_record(account)


WROTE = accounts.OWNER_WROTE  # the side of ``wrote`` the owner's one-way record is


def reciprocated(account: str) -> str:
    """Correspondents the account wrote to cleanly who list it back or had just written to
    it: the history that makes it established is people, not volume (``session``). The
    same people as the account's other ties: its ties' ``RECIPROCATED`` side."""
    return accounts.tie_record(account)


RECIPROCATED = accounts.RECIPROCATED  # the side of ``reciprocated``


def shares(account: str) -> str:
    """Dormant ties the account's earned networks (``profile.earned``) sent popular sites
    to, within ``pitch_trust_after``: how far a share reaches (``TakeoverDetector.
    _unearned``). Its ``LIFE`` side, lodged as ``unproven`` is: a guest no session is."""
    return guest_key(_LIFELONG, account, "") + "%shares"


def doubted(account: str) -> str:
    """Dormant ties written to from any of the account's sessions nothing proves the
    owner's."""
    return f"tk:doubted:{account}"
