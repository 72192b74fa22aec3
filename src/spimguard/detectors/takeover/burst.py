"""The burst: an unfamiliar session writing to many of the account's dormant ties.

**Dormant ties.** Only contacts the account has not been writing to make a burst: an
owner on a new network writes to the friends it always writes to; a harvester writes to
the whole list, most of it dormant. Counted in ``burst_window``; or, spread past it,
over the session's life beyond the correspondents it also wrote to (``slow_burst``).

**The intruder is one actor, whatever sessions it mints.** Session ids and sign-ins are
the client's choice: the burst also counts the dormant ties written to in
``burst_window`` from all of the account's sessions nothing proves the owner's
(``doubted_burst``), so a new session for every message bursts all the same. A reply
(the recipient wrote first) neither joins nor is judged by it, and the owner's proven
sessions count apart.

**Order-proof bursts.** Once a session has written to dormant ties, its burst is the
larger of those ties and the distinct contacts it sent a link to one site: an active
friend among the first recipients of a pitch counts like any other, while a link shared
with two close friends alone is no burst. The site, not the words: sellers vary the
words per recipient (four templates, names filled in), never the site they sell.

**Replies are earned.** A message counts as a reply only when it answers, in a
one-to-one conversation, someone who wrote to the account *after this session signed
in* (so within ``reply_window``), and is not the text the session is already
repeating, nor its pitch (``pitched``): the site it already gave another answerer, or
a link to a dormant tie once the account's unproven sessions have sent links to
``pitch_ties`` of them. Who wrote first does not tell a provoked answer ("long time! how
are you?" to a dormant tie) from a conversation, what the session answers with does.
Invitations are not writing.

An encrypted message has no text to compare: never "the text the session is repeating"
(its replies count), but one size class of ciphertext to the dormant ties stands in for
one text in the burst's strength.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

from ...events import Message
from ...signals import Signal
from ...state.ops import Tally
from ..base import Facts
from .plan import Plan
from .rooms import Settled
from .settings import TakeoverSettings


def dormant_ties(plan: Plan, facts: Facts, answered: bool = False) -> tuple[str, ...]:
    """The recipients who are contacts (``listed``) the account has not been writing to.

    A tie counts from the account's own side: a contact who writes to it and whom it
    never wrote to (an acquaintance's greetings, a friend of the family) is not a
    friend the owner writes to, and an owner on a new network has no reason to start
    with them, while a harvested list holds them wherever its order puts them (an
    active friend early in the list used to let a fourth message through). Until the
    account's one-way record holds anyone (spimguard just installed or upgraded) the
    two-way one stands in. ``answered``: as the burst counts them (``listed``)."""
    assert plan.burst is not None and plan.wrote is not None
    wrote_any, wrote = facts[plan.wrote]
    ties = wrote if wrote_any else facts[plan.talked]  # type: ignore[index]  # (``talked`` is planned with ``wrote``)
    return tuple([p for p, contact, used in zip(plan.burst.members, listed(
        plan, facts, answered), ties, strict=True) if contact and not used])


def listed(plan: Plan, facts: Facts, answered: bool = False) -> tuple[bool, ...]:
    """Whether each recipient is a contact: on the account's list, or listing the account
    on its own (``Plan.back``, the first ``accounts.MAX_TIES``).

    The account's list is the side whoever holds the account edits: the seller that read
    it deletes it, and the people it then pitched were no contacts, so no dormant ties,
    no burst and no pitch (red team, session 29: 40 of 40 pitches reached, none held).
    The recipients' lists are theirs, which no holder of the account can edit.

    But anyone may list anyone: socks that list an owner and write to her would make her
    new phone's answers to them a burst. So for the burst (``answered``) a recipient who
    just wrote to the account (``Plan.heard``) stands on the account's list alone: it is
    answered, not sought out. Not for the pitch (``pitched``) nor the sites' count: the
    seller's openers to the list it deleted draw answers too, and a link given to each
    answerer is the pitch, as it is to a contact."""
    assert plan.contacts is not None
    own = facts[plan.contacts]
    if all(own) or (answered and plan.heard is not None and facts[plan.heard] is not None):
        return own
    return tuple([c or (i < len(plan.back) and bool(facts[plan.back[i]][0]))
                  for i, c in enumerate(own)])


def repeating(plan: Plan, facts: Facts) -> bool:
    """Whether the session already sent this text in the burst window; never for a
    message without a fingerprint, an encrypted one's included (its words are unknown,
    not the same: the plan reads no count for it)."""
    return plan.same_text is not None and facts[plan.same_text] >= 1


def pitched(cfg: TakeoverSettings, plan: Plan, facts: Facts, linked: Collection[str]) -> str:
    """What makes a risky session's message with a link to a dormant tie
    (``dormant_ties``) the session's pitch, not a reply, in the words its burst's detail
    gives ("" when nothing does). Either holds whoever wrote first in each (``answers``):

    - it answers one who just wrote (within ``reply_window``) with a site the session
      already sent another contact in the burst window (``pitch_others``): the same link as
      the answer to several people the account had not been writing to is the session's
      own message, while a friend sharing a video with its friends answers nobody with it
      (the simulator's popular-link trap; red team, session 26);
    - the account's sessions nothing proves the owner's have sent links to ``pitch_ties``
      dormant ties over a session's life, this one's included, whatever the sites: the
      seller chooses the site, the pace, when the pitch follows the answer and how many
      sessions it mints, not that every answerer gets a link, while a friend on a new
      phone sends one to the one or two it catches up with (red team, session 27). Not a
      room's post: a room counts as one target, its settled members none (``rooms``).
      ``linked``: the dormant ties they linked (``Record.links``).

    Read only for a risky session's message with a link (``Plan.risky``): never asked of
    another."""
    if plan.text_to is None:  # no link
        return ""
    dormant = dormant_ties(plan, facts)
    if not dormant:
        return ""
    if plan.heard is not None and facts[plan.heard] is not None:
        count, known = facts[plan.text_to]
        if int(count) - sum(known) >= cfg.pitch_others:
            return "answering with a site it had sent another contact"
    count = 0 if plan.room is not None else len(linked) + sum(
        1 for p in dormant if p not in linked)
    if count >= cfg.pitch_ties:
        return f"with links to {count} contacts it had not been writing to"
    return ""


def linked_writes(cfg: TakeoverSettings, plan: Plan, dormant: tuple[str, ...],
                  linked: Collection[str]) -> tuple[str, ...]:
    """Who of a risky session's link to ``dormant`` ties is kept for ``pitched`` over a
    session's life with the account's other unproven sessions' links (``linked``, as read:
    ``Record.touch_links``, capped at ``pitch_ties``): only the ties it does not hold, and
    nobody once it holds ``pitch_ties``, for only whether it reaches that many is asked (a
    seller's every later pitch would rewrite it). Whatever the verdict: a held or blocked
    pitch was sent all the same, and the owner's proven session is never asked. Not a
    room's post's (``pitched``)."""
    if plan.text_to is None or plan.room is not None or len(linked) >= cfg.pitch_ties:
        return ()
    return tuple([p for p in dormant if p not in linked])


def answers(message: Message, plan: Plan, facts: Facts, session: dict[str, Any],
            pitch: Callable[[], str]) -> bool:
    """Whether the message is a reply: one-to-one, to someone who wrote to the account
    since this session signed in (within ``reply_window``), and neither the text the
    session is already repeating nor, from a risky session, its pitch (``pitch``: the
    message's ``pitched``, asked only then): a friend's replies to different people say
    different things, while the ringtone seller's openers ("long time! how are you?") drew
    answers and each answerer got the same link as the answer's reply (red team, session
    26)."""
    if plan.heard is None:
        return False
    heard = facts[plan.heard]
    return heard is not None and heard >= session.get("login", message.ts) and not (
        repeating(plan, facts) or (bool(session.get("risk")) and bool(pitch())))


def _slow_burst(plan: Plan, facts: Facts, dormant: tuple[str, ...], room: int,
                sets: tuple[Tally | None, Tally | None]) -> int:
    """Dormant ties written to over a session's life (``sets``: the life and pals sides of
    the session's record, or of the account's unproven sessions together), beyond the
    correspondents also written to. The burst window catches a pitch sent in minutes; one
    spread out (a message every 11 minutes) still goes almost only to dormant ties, while
    an owner on a new network, however slowly, writes to the friends it always writes
    to first and most. ``room``: 1 for a settled room new to the session's life."""
    life_set, pals_set = sets
    assert life_set is not None and pals_set is not None and plan.talked is not None
    life, life_known = facts[life_set]
    life += room + sum(1 for p, known in zip(life_set.members, life_known, strict=True)
                if not known and p in dormant)
    pals, pals_known = facts[pals_set]
    pals += sum(1 for talked, known in zip(facts[plan.talked], pals_known, strict=True)
                if talked and not known)
    return max(0, int(life) - int(pals))


def _unheld(tally: Tally, facts: Facts, dormant: tuple[str, ...]) -> tuple[str, ...]:
    """The dormant ties the set does not hold yet (each is one of its asked members)."""
    held = dict(zip(tally.members, facts[tally][1], strict=True))
    return tuple([p for p in dormant if not held[p]])


def _new_dormant(tally: Tally, facts: Facts, dormant: tuple[str, ...]) -> int:
    """The set's count, with the dormant ties it does not hold yet."""
    return int(facts[tally][0]) + len(_unheld(tally, facts, dormant))


def _doubted_burst(plan: Plan, facts: Facts, dormant: tuple[str, ...]) -> int:
    """Dormant ties written to in the burst window from any of the account's sessions
    that nothing proves the owner's, this message's included."""
    assert plan.doubted is not None
    return _new_dormant(plan.doubted, facts, dormant)


def pitchable(plan: Plan, facts: Facts) -> tuple[bool, ...]:
    """Whether each recipient is one whom a pitch is counted for (``_text_burst``): a
    contact (``listed``), or a correspondent who wrote to the account (``Plan.talked``),
    the other act of the recipient's own that no holder of the account can undo. Where
    the platform keeps no contact lists (a Matrix server, an adapter that sends messages
    alone) the people who write to the account are its ties (red team, session 30: the
    seller's 40 pitches to them, 3 s apart, all delivered)."""
    assert plan.talked is not None
    return tuple([c or t for c, t in zip(listed(plan, facts), facts[plan.talked], strict=True)])


def _text_burst(plan: Plan, facts: Facts, ok: Sequence[bool], room: Settled | None) -> int:
    """Distinct contacts and correspondents (``ok``: ``pitchable``; a settled room's: the
    room) this session sent this pitch to, this one included."""
    assert plan.text_to is not None and plan.contacts is not None
    count, known = facts[plan.text_to]
    settled = frozenset() if room is None else room.people
    new = room is not None and room.listed and not room.in_text
    return int(count) + new + sum(
        1 for p, contact, sent in zip(plan.text_to.members, ok, known, strict=True)
        if contact and not sent and p not in settled)


def broadcast(plan: Plan, facts: Facts, dormant: tuple[str, ...], room: Settled | None,
              others: tuple[tuple[Tally, Tally], ...] = ()) -> tuple[int, int]:
    """How far a familiar session's message with a little-known site reaches as a
    broadcast (``TakeoverDetector._broadcast``), this message's recipients included: the
    people it gave this site to in the burst window (``_text_burst`` over ``pitchable``),
    or the dormant ties it wrote to there, whatever it sent them (a site per pitch): the
    two counts, the pitch's first (``calling`` asks it alone). ``others``: the burst and
    pitch sets of the account's other familiar sessions (``plan.sessions_sets``), counted
    with the session's own: each set's count, and a recipient once, in none of them or in
    the one that holds it (``_over``)."""
    assert plan.burst is not None
    ok = pitchable(plan, facts)
    text = _text_burst(plan, facts, ok, room)
    ties = _new_dormant(plan.burst, facts, dormant) + bool(room and room.dormant)
    if others:
        assert plan.text_to is not None
        text += _over(plan.text_to, facts, [t for _, t in others],
                      frozenset(_given(plan, ok, room)))
        ties += _over(plan.burst, facts, [b for b, _ in others], frozenset(dormant))
    return text, ties


def _given(plan: Plan, ok: Sequence[bool], room: Settled | None) -> list[str]:
    """The recipients a pitch's set would count (``ok``: ``pitchable``), a settled room's
    members never (``broadcast``, ``people``)."""
    assert plan.text_to is not None
    settled = frozenset() if room is None else room.people
    return [p for p, can in zip(plan.text_to.members, ok, strict=True)
            if can and p not in settled]


def _over(own: Tally, facts: Facts, sets: list[Tally], counted: frozenset[str]) -> int:
    """What ``sets`` (other sessions' sets of ``own``'s kind, asked of the same members)
    add to ``own``'s count with ``counted`` (the members ``own``'s count adds when it does
    not hold them): each set's count, with each asked member once, however many of the
    sets hold it (a recipient written from two sessions is one person)."""
    holders = [int(h) for h in facts[own][1]]
    added = 0
    for tally in sets:
        count, known = facts[tally]
        added += int(count)
        holders = [h + bool(k) for h, k in zip(holders, known, strict=True)]
    for p, h, was in zip(own.members, holders, facts[own][1], strict=True):
        # As counted so far: each set holding it, and once more if ``own``'s count adds it.
        times = h + (p in counted and not was)
        added -= max(0, times - 1)
    return added


def people(plan: Plan, facts: Facts, dormant: tuple[str, ...], room: Settled | None,
           texts: Sequence[tuple[str, ...]], ties: Sequence[tuple[str, ...]]
           ) -> tuple[int, int]:
    """``broadcast``'s two counts over the sessions, each person once: what the pitch's
    sets (``texts``) and the burst's sets (``ties``) hold (``Members``, as read), joined,
    with the recipients each count adds (``_text_burst``, ``_new_dormant``). Asked only
    when the counts summed (``broadcast``'s ``others``, an upper bound: a person in two
    sets is counted in each) reach the bound, so a friend's link given again from the
    other device is never what makes a broadcast."""
    text = set().union(*texts, _given(plan, pitchable(plan, facts), room))
    if room is not None and room.listed:
        text.add(room.token)
    people = set().union(*ties, dormant)
    return len(text), len(people) + bool(room and room.dormant)


def calling(cfg: TakeoverSettings, given: int, calls: tuple[str, ...]) -> Signal | None:
    """PREMIUM_BROADCAST for a familiar session's broadcast (``TakeoverDetector._broadcast``)
    whose pitch names a number that bills whoever answers it (``MessageView.calls``: a
    keyword to a short code, a premium-rate line), once the account's familiar sessions
    have given that pitch to ``pitch_ties`` people in the burst window (``given``:
    ``broadcast``'s pitch count, each person once over the sessions as ``people`` joins
    them), this message's included; None otherwise. Counted over the sessions as the
    broadcast is (the lead's merge of code49 with bcast49): a number's pitch signed in anew
    every three pitches gave it to three people a session, and 28 of 40 were delivered.

    A pitch must tell its reader where to act. A link says so by a site, and a little-known
    site's shape speaks for itself (``LINK_PHISHY``); a number that bills its caller says so
    by what it is: a short code is leased by a service, a premium-rate line charges the
    caller, and nobody's own number is either. One friend passing a vote line or a charity's
    code to two others is a friend's word; the same billing number to the ties the account
    had not been writing to, within minutes, is an advert, whoever holds the device (code49:
    the ringtone seller's "text TONES to 80888" from the owner's /24 and app, 40 of 40
    delivered once FAMILIAR_SENDER was gone, for its words scored 2.1 to 6.0). What the
    words say, in the content group: between people who list each other it warns, never
    holds (``policy.py``); the owner forwarding a vote line to everyone is warned too."""
    if given < cfg.pitch_ties:
        return None
    return Signal("PREMIUM_BROADCAST", 1.0, f"a number that bills whoever answers it "
                  f"({', '.join(calls[:2])}) given to {given} people in minutes")


class Burst(NamedTuple):
    size: int  # distinct contacts the burst counts
    slow: int  # ... of which over the session's life (``_slow_burst``)
    shared: bool  # counted over the account's other unproven sessions too
    # The people given the site (or links, whatever the site) when that alone made the
    # burst, none of them a dormant tie (``measure``'s spread pitch): the same site to that
    # many is the broadcast, which no reply before it excuses (``signal``).
    spread: int = 0


def spread_to(plan: Plan, ok: Sequence[bool], known: Collection[bool] | None,
              room: Settled | None) -> tuple[str, ...]:
    """The recipients a spread pitch counts (``measure``; ``Plan.spread``'s set keeps
    them): contacts and correspondents (``ok``: ``pitchable``, asked once a message, not
    once a set) the set does not hold yet (``known``: its memberships; None: all of
    them), never a settled room's members."""
    assert plan.burst is not None
    members = plan.burst.members  # each set's asked members
    settled = frozenset() if room is None else room.people
    held = known if known is not None else (False,) * len(members)
    return tuple([p for p, can, was in zip(members, ok, held, strict=True)
                  if can and not was and p not in settled])


def _spread_count(plan: Plan, facts: Facts, ok: Sequence[bool], tally: Tally,
                  room: Settled | None) -> int:
    """The people a spread set holds, with the recipients it would add (``spread_to``)."""
    count, known = facts[tally]
    return int(count) + len(spread_to(plan, ok, known, room))


def measure(plan: Plan, facts: Facts, dormant: tuple[str, ...], link: bool, doubted: bool,
            room: Settled | None = None, spread: int = 0,
            life: tuple[int, int] | None = None) -> Burst:
    """The burst this message makes, ``doubted``: it joins the burst over the account's
    unproven sessions (and ``dormant`` is not empty, or ``room`` is a dormant target).
    ``room``: a group post's settled room (``rooms.settled``), one target in place of
    its settled members (whom ``dormant`` then leaves out). ``spread``: the contacts to
    whom a link to the message's site, one on no popular list, makes the session's pitch
    however recently the account wrote to them (``pitch_ties``; 0: only after a dormant
    tie), in the burst window (``Plan.text_to``) or, ``life`` (``Plan.spread`` read: a
    recipient could join it), over the account's unproven sessions' life together: each
    site counted apart (``keys.spread``), one on no popular list from the first of
    ``life``'s numbers of people, a popular one from the second; and links whatever the
    sites (``keys.linked``) from the second too, for it is the same fact (how far one
    shares a thing one by one), a reply to one who asked included (``spread`` 0)."""
    assert plan.burst is not None
    counted = room is not None and room.dormant
    own = _new_dormant(plan.burst, facts, dormant) + (counted and not room.in_burst)  # type: ignore[union-attr]  # (``counted``: ``room`` is not None)
    # Sessions are tied to one another only by what they do: a message that writes
    # down no part of the list (only to people the account writes to) is no step of
    # anyone's burst, so the owner's unproven phone chatting with a friend during an
    # intruder's burst is judged by its own count alone.
    quick = max(own, _doubted_burst(plan, facts, dormant) + (
        counted and not room.in_doubted)) if doubted else own  # type: ignore[union-attr]  # (``counted``: ``room`` is not None)
    own_slow = _slow_burst(plan, facts, dormant, counted and not room.in_life,  # type: ignore[union-attr]  # (``counted``: ``room`` is not None)
                           (plan.life, plan.pals))
    # The intruder is one actor over a session's life too: a fresh session for each
    # message, one per burst window, was no burst of any session's (red team, session 25).
    unproven = _slow_burst(plan, facts, dormant, 0, (plan.doubted_life, plan.doubted_pals)
                           ) if doubted else 0
    # Worded as the window's burst, or the session's, whenever either counts as much.
    slow = unproven if unproven > max(quick, own_slow) else own_slow
    ties = max(quick, slow)
    # A link to dormant ties is a pitch: from then on every contact it sent that site
    # counts, active friends too (where they sit in the list changes nothing). So is a site
    # on no popular list given to ``spread`` contacts, whoever they are: the seller reads
    # the account's history and pitches the people it writes to, none dormant (red team,
    # session 30: 28 of 40 reached), while a friend on a new phone gives such a link to the
    # one to three it catches up with.
    # Whom a pitch counts depends on the recipients alone, not on the set: asked once.
    ok = pitchable(plan, facts) if link or (life is not None and plan.spread) else ()
    pitched = _text_burst(plan, facts, ok, room) if link else 0
    if not ties and (not spread or pitched < spread):
        pitched = 0
    if life is not None and plan.spread:
        little, popular = life
        every, *sites = plan.spread
        # The intruder is one actor over a session's life as in the window, whatever
        # sessions it mints (session 25): the people the unproven sessions gave each site
        # (a decoy beside it changes nothing: session 31) ... each set from its own count,
        # a dormant tie or not: a dormant tie makes the burst window's pitch (``text_to``,
        # above) the session's from one person, as the window is where it was seen; over
        # the life every set is one fact, how far a site went, whose own threshold says
        # when it is spread (an owner's new desktop, its conversation with a dormant
        # contact turning to a Reddit link: 2 people, warned on mixed 9402; review31b).
        for i, tally in enumerate(sites if spread else ()):
            people = _spread_count(plan, facts, ok, tally, room)
            if people >= (little if i < plan.unlisted else popular):
                pitched = max(pitched, people)
        # ... and how far they shared links whatever the sites (a site per pitch: 40
        # registrable domains; session 31), the answers to those who asked included,
        # which only counts from ``popular`` people.
        people = _spread_count(plan, facts, ok, every, room)
        if people >= popular:
            pitched = max(pitched, people)
    size = max(ties, pitched)
    return Burst(size, slow, size > max(own, own_slow, pitched), 0 if ties else pitched)


class Judged(NamedTuple):
    """What the burst signal weighs and words besides the burst itself."""

    risk: float  # the session's (``session.unfamiliar``)
    where: str  # its network, in words
    client: str  # its app, in words
    scraped: bool  # it read most of the contact list first
    size: int  # the contact list's
    same_text: bool  # one text (encrypted: one size class) to all
    link: bool
    own_app: bool  # the session's app is familiar to the account
    owner: bool  # ``owner_consistent``
    encrypted: bool  # the message's words are unknown (its size class stands in)
    dormant: int  # recipients who are dormant ties (``dormant_ties``) ...
    contacts: int  # ... of the recipients on the contact list
    replies: int  # the session's replies so far (``answers``)
    read: int  # contacts the session read
    login: float  # when the session signed in (or first wrote)
    sent: float  # messages the session had delivered (the owner's notice counts them)
    pitching: str = ""  # what makes the message its pitch, in words (``pitched``)


def signal(cfg: TakeoverSettings, burst: Burst, judged: Judged, strength: float) -> Signal:
    """ACCOUNT_HIJACK_BURST (or ACCOUNT_BURST_UNPITCHED) for a burst ramped to
    ``strength``, with the facts a notice tells the owner (``about``)."""
    mostly_dormant = judged.dormant >= cfg.burst_dormant_share * max(judged.contacts, 1)
    strength *= min(1.0, cfg.burst_base + cfg.burst_risk * judged.risk
                    + cfg.burst_scraped * judged.scraped
                    + cfg.burst_one_text * (judged.same_text or mostly_dormant)
                    + cfg.burst_link * judged.link)
    during = (f"in {cfg.burst_window // 60} min" if burst.size > burst.slow
              else "over the session, more than the friends it writes with")
    parts = [f"{burst.size} of its contacts it had not been writing to or sent one text to, "
             + during]
    if judged.replies >= cfg.replies_trusted and judged.pitching:
        # Not for its pitch (``pitched``): chat that answers provoked answers ("so good to
        # hear from you!") is cheap, and the link after it is the broadcast.
        parts.append(f"{judged.pitching}, for all its {judged.replies} replies before")
    elif judged.replies >= cfg.replies_trusted:
        # It has been answering its friends' messages: people chat, spam software
        # blasts. On the account's own app too, it is most likely the owner on the road.
        strength *= cfg.replied_own_app if judged.own_app else cfg.replied_other_app
        parts.append(f"but it had replied to {judged.replies} messages before")
    if judged.owner:
        # Only partly new, and nothing in it says someone else (``owner_consistent``):
        # the owner's app on a network the account has written from cleanly, no contact
        # list read, no link. The phone a few hours into a new network explains the
        # session and an announcement the burst ("my new number", to everyone): only a
        # trace, under what challenges the account with velocity's capped points. A
        # network the account never wrote from gets no such allowance: an intruder can
        # claim the official app and skip the list and the link, not its own servers.
        strength = min(strength, cfg.unpitched_trace)
        parts.append("but it read no contact list and sent no link")
    # Only partly new, no list read, no link, in the clear, but from a network the
    # account never wrote from: the burst is held in full (an intruder that spoofs the
    # official app and skips the list and the link), yet it is no evidence for an
    # account action on its own: the owner on a phone new to this network looks the
    # same, and suspending its session would stop its own chat with it.
    code = ("ACCOUNT_BURST_UNPITCHED" if not judged.owner and judged.risk < cfg.risk_stranger
            and not (judged.scraped or judged.link) and not judged.encrypted
            else "ACCOUNT_HIJACK_BURST")
    if judged.same_text:
        parts.append("with messages of one size" if judged.encrypted else "with one text")
    if judged.scraped:
        parts.append(f"after reading {judged.read} of {judged.size} contacts")
    login = dt.datetime.fromtimestamp(judged.login, dt.UTC)
    about = {"topic": "hijack", "client": judged.client, "time": login.strftime("%H:%M UTC"),
             "network": judged.where, "count": str(int(judged.sent))}  # delivered
    return Signal(code, strength,
                  f"a session from '{judged.client}' on {judged.where}"
                  + (", with other sessions of the account nothing proves the "
                     "owner's," if burst.shared else "")
                  + " wrote to " + ", ".join(parts),
                  about=about)
