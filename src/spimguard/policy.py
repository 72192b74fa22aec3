"""The one place that decides: signals to points, points to an action.

points(signal) = weight[code] × strength, weights from config (``data/scores.toml``
under the operator's ``[scores]``). Signals of one group are evidence of one fact,
so a group's points are capped (``[group_caps]``) and its signals scaled down to
the cap, keeping the listed scores equal to the total. The action is the highest
threshold at or below the total: deliver < warn < hold < block.

Overrides are named results, not magic scores: block > hold > allow.

Independent evidence: a group is one *kind* of evidence (what the words say, how the
account behaves, what a link is, ...). A hold needs a kind that says something other
than the words alone, or words near certain. Between people who list each other as
contacts (a signal of the ``relationship`` group: CONTACTS_MUTUAL from an established
sender, or CONVERSATION once the recipient has written back) the relationship is
evidence too: a bot can get its targets to accept it, not a month of life behind it,
nor their replies. It outweighs what the words alone say (the ``content`` group:
friends' price lists, shouting and new numbers read like adverts; the shape of a link,
LINK_PHISHY, is read like the words, for a friend's link to a little-known site is no
campaign's) unless the words are near certain: holding then needs another kind of
evidence that would warn on its own, or content that would block on its own; otherwise
the message is warned. Other kinds are not bounded: a domain users reported stays
reported between friends. And a hijacker inherits its victim's contacts, so the
relationship vouches for the words only while nothing says the session is someone
else's: a session the account does not use that read the list, or one of an open
incident (``DOUBT``, any points at all), lifts the bound; a session the account does
not use that nothing proves the owner's (``UNPROVEN``, on every message) lifts the
listing's, not a conversation's; a burst to its dormant ties counts as any other kind,
by what it weighs. Points are not changed, only the action is bounded.

The owner's own session bounds one kind more: how much and how widely the account
writes (the ``velocity`` group, near-duplicates included) is then the owner's doing,
an announcement to everyone it knows ("this is my new number"), not evidence that
someone else is writing. Two signals say it is the owner's session: FAMILIAR_SENDER
(its usual app on its usual network, proven over days) and OWNER_CONSISTENT (positive
evidence and nothing against it: an established account, the official or its own app,
no contact list read, no link in the clear, to contacts who list it back, from a
network sessions proven the owner's wrote from; ``detectors/takeover/``). Words and
volume together warn, and the recipient's notice says the message may not be from its
sender; a hold needs words that would block on their own or another kind (a reported
or spreading link, a confirmed campaign, a burst to dormant ties, the rules).

Metadata-only verdicts (an end-to-end encrypted message: no words, no links) use
the same thresholds, on purpose. Nothing lowers them to make up for the missing
words: sending behaviour alone (the capped velocity group) has innocent
explanations that only the words would tell apart, so it still warns at most.
Nothing raises them either: what holds an encrypted message (a session that is not
the owner's, a days-old account writing to strangers, its recipients' reports of
the session) holds a plain one too. What changes is what a verdict may say: the
engine gives it the ``_sealed`` notices (``notices.py``), about how it was sent.

Account actions follow only from the account-level groups (how the sender
behaves, not what one message says): ``challenge`` and ``suspend_sending``
thresholds in ``[policy]``. A suspension is scoped to the sending session when
there is one, so the owner's own devices keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import compress
from operator import attrgetter, itemgetter

import msgspec

from .config import Config
from .events import AccountAction, AccountActionKind, Action, SignalOut
from .signals import Signal

RELATIONSHIP = "relationship"  # the group of evidence that sender and recipients converse
CONTENT = "content"  # the group of what the words (and the links' shapes) alone say
VOLUME = "velocity"  # the group of how much and how widely the account writes
# The owner's session: its usual app and network (proven), or nothing saying otherwise.
OWNERS = ("FAMILIAR_SENDER", "OWNER_CONSISTENT")
# A session the account does not use that read the contact list (its messages carry
# LOGIN_UNFAMILIAR and CONTACTS_SCRAPED), or one of an open incident: the relationship
# no longer vouches for the words (a hijacker inherits it). A burst to dormant ties is
# evidence by its strength, like any kind: friends passing a link to two close friends
# from a phone new to a network burst a little too.
DOUBT = frozenset({"CONTACTS_SCRAPED", "LOGIN_UNFAMILIAR", "INCIDENT_INHERITED"})
# A session the account does not use and nothing proves the owner's (takeover's judgement
# of the session itself, on every message, no points): a listing, which the session
# inherits, no longer vouches for the words; a recipient who wrote back still does.
UNPROVEN = "SESSION_UNFAMILIAR"
LISTED = "CONTACTS_MUTUAL"  # the relationship signal that is only a listing
SUSPENDED = "SENDING_SUSPENDED"  # the hold a suspension (a session doubted before) imposes


class Decision(msgspec.Struct, frozen=True):
    """What ``decide`` made of an event's signals. A frozen struct, built in C: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, in bytecode."""

    action: Action
    score: float
    signals: list[SignalOut]
    account_action: AccountAction
    reason: str  # the strongest evidence in words, for notices
    about: Mapping[str, str] | None = None  # notice facts of the strongest signal with any


_POINTS = itemgetter(1)  # of a (signal, points) pair: what ``decide`` orders them by
_SIGNAL = itemgetter(0)  # of the same pair
_CODE = attrgetter("code")  # of a signal
# What a verdict reads of its signals and their groups, in C: a comprehension or generator
# made a function object and a frame at each of ``decide``'s ~0.8 calls an event, ~900
# instructions each.
_DETAIL = attrgetter("detail")
_ON_ACCOUNT = itemgetter(1)  # of a (group, account group?) pair (``_scored``)
_NO_ACTION = AccountAction()
_NOTHING = Decision(action="deliver", score=0.0, signals=[], account_action=_NO_ACTION,
                    reason="")


class _Named(dict[str, tuple[float, str, bool]]):
    """Per code: (weight, group, whether the group is an account group). A code config
    does not name weighs 1, is its own group and no account group: said here once, for
    every reader of a signal's points (``_scored``, ``_weightless``), by the look-up
    itself (``__missing__``, asked only for such a code; the entry is not kept, so no
    detector's code grows the table)."""

    def __missing__(self, code: str) -> tuple[float, str, bool]:
        return 1.0, code, False


class Policy:
    def __init__(self, config: Config) -> None:
        self.cfg = config.policy
        self.weights = dict(config.scores)
        self.groups = dict(config.groups)
        self.caps = dict(config.group_caps)
        # Per code config names: (weight, group, whether the group is an account group),
        # looked up once here rather than three times per signal; any other code's, by
        # ``_Named``.
        self._codes = _Named({code: (self.weights.get(code, 1.0), self.groups.get(code, code),
                                     self.groups.get(code) in self.cfg.account_groups)
                              for code in {*self.weights, *self.groups}})
        # The groups of the signals that name the owner's session (``_uncorroborated``).
        self._owners = frozenset([self.groups.get(code, code) for code in OWNERS])
        # Whether a verdict of no points at all is a delivery with no account action
        # (``_weightless``): every threshold above zero, as the defaults' are.
        cfg = self.cfg
        self._zero_delivers = min(cfg.warn, cfg.hold, cfg.block, cfg.challenge,
                                  cfg.suspend_sending) > 0

    def _scored(self, signals: Sequence[Signal]) -> tuple[list[tuple[Signal, float]], float,
                                                          float]:
        codes = self._codes
        raw: list[tuple[Signal, float]] = []
        groups: list[tuple[str, bool]] = []  # per signal: its group, an account group?
        per_group: dict[str, float] = {}
        for signal in signals:
            weight, group, account = codes[signal.code]
            points = weight * signal.strength
            raw.append((signal, points))
            groups.append((group, account))
            per_group[group] = per_group.get(group, 0.0) + points
        caps = self.caps
        scored = raw
        if not caps.keys().isdisjoint(per_group):  # most verdicts reach no capped group
            # A loop, not a comprehension (its function object and frame): nearly every
            # verdict with evidence reaches a capped group (598 of the mixed load's 647).
            scale: dict[str, float] = {}
            for g, total in per_group.items():
                cap = caps.get(g)
                if cap is not None and total > cap > 0:
                    scale[g] = cap / total
            if scale:
                scored = [(s, p * scale.get(g, 1.0))
                          for (s, p), (g, _) in zip(raw, groups, strict=True)]
        # The action follows the score as the verdict shows it (3 decimals): 4 + 10 × 0.9 / 3
        # reaches a hold threshold of 7 rather than falling a float's last bit short.
        total = round(sum(map(_POINTS, scored)), 3)
        on_accounts = sum(compress(map(_POINTS, scored), map(_ON_ACCOUNT, groups)))
        return scored, total, on_accounts

    def _uncorroborated(self, scored: Sequence[tuple[Signal, float]]) -> bool:
        """Between contacts, or from the owner's own session, are the words (not near
        certain), with the owner's own volume, the only evidence that would warn on its
        own?

        One pass over the signals (in ``scored``'s order, so each kind's points add up as
        they always did) and one over the kinds: the sets, ``any`` and sums of each its
        comprehension or generator cost a frame apiece, ~10 a verdict held (``judge44``)."""
        codes, owners = self._codes, self._owners
        kinds: dict[str, float] = {}
        ties: set[str] = set()
        doubted = unproven = False
        for signal, points in scored:
            code = signal.code
            group = codes[code][1]
            kinds[group] = kinds.get(group, 0.0) + points
            if group == RELATIONSHIP:
                ties.add(code)
            if code in DOUBT and points > 0:
                doubted = True
            elif code == UNPROVEN and signal.strength > 0:
                unproven = True
        if unproven:
            ties.discard(LISTED)
        bounded: tuple[str, ...]
        if not owners.isdisjoint(kinds):
            bounded = (CONTENT, VOLUME)
        elif ties and not doubted:
            bounded = (CONTENT,)
        else:
            return False
        # The bound takes the words (and the owner's volume) out, nothing else: weak kinds
        # that reach hold together without them (a session's burst and its mailing, no
        # words at all in an encrypted message) still hold; and any other kind that would
        # warn on its own is evidence the bound does not cover.
        cfg = self.cfg
        others: list[float] = []
        for group, points in kinds.items():
            if group in owners or group == RELATIONSHIP or group in bounded:
                continue
            if points >= cfg.warn:
                return False
            others.append(points)
        if sum(others) >= cfg.hold:  # not ``<``: a NaN sum does not decide
            return False
        return kinds.get(CONTENT, 0.0) < cfg.block

    def rests_on_doubt(self, points: Iterable[tuple[str, float]], total: float) -> bool:
        """Whether stopping a message rests on doubt that its session is the owner's.

        ``points``: (code, points) of the verdict's signals, ``total`` its score. It does
        when evidence of the ``session_groups`` (someone else is writing from the session)
        or a suspension (which such evidence imposed) is present, and the rest of the
        evidence falls short of a hold. The owner alone can answer that doubt, and cheaply:
        one prompt of a second factor, which an intruder holding only the password cannot
        pass. So such a stop asks for the challenge, and a passed one releases it
        (``server/challenges.py``). A stop the rest would make on its own (words, links,
        reports, a newcomer writing to strangers) is no such doubt: the holder of a
        throwaway account passes its own challenge."""
        doubt, suspended = 0.0, False
        for code, p in points:
            if code == SUSPENDED:
                suspended = True
            elif self.groups.get(code, code) in self.cfg.session_groups:
                doubt += p
        return (doubt > 0 or suspended) and total - doubt < self.cfg.hold

    def _weightless(self, signals: Sequence[Signal]) -> Decision | None:
        """The verdict when none of ``signals`` weighs anything nor overrides, else None.

        Most messages are people writing to those who write back: their one signal is
        CONVERSATION, which weighs nothing on its own (it bounds what the words weigh,
        ``_uncorroborated``, and there are none). Signals of no points make a score of 0,
        below every threshold (``_zero_delivers``, asked only then): a delivery, no
        account action, no evidence to give as its reason, and the signals listed at 0 in
        their order (the sort by points moves none of them). So it is answered here,
        without scoring, capping, sorting and the bounds, each a frame or more (the
        policy's 37,800 instructions an event on the mixed load became 23,600, ``bulk43``).
        What a sender writes cannot buy this answer: a single signal of any points, or an
        override, takes the whole path, and this answer is the one that path gives
        (``tests/test_bulk43.py``)."""
        codes = self._codes
        listed: list[SignalOut] = []
        about: Mapping[str, str] | None = None
        for signal in signals:
            points = codes[signal.code][0] * signal.strength
            if points != 0 or signal.override:  # NaN is not 0: the whole path's
                return None
            listed.append(SignalOut(signal.code, points, signal.detail))  # 0: not rounded
            if about is None and signal.about:
                about = signal.about
        return Decision(action="deliver", score=0.0, signals=listed,
                        account_action=_NO_ACTION, reason="", about=about)

    def decide(self, signals: Sequence[Signal], account: str, session: str,
               in_force: AccountActionKind = "none") -> Decision:
        if in_force == "none":
            if not signals:
                return _NOTHING
            weightless = self._weightless(signals) if self._zero_delivers else None
            if weightless is not None:
                return weightless
        scored, total, account_points = self._scored(signals)
        scored.sort(key=_POINTS, reverse=True)
        # One pass over the signals for what the verdict takes of them (a generator or a
        # comprehension each cost a frame a message): their overrides, the first notice
        # facts, whether the owner's session is named, and the evidence, strongest first.
        overrides: set[str] = set()
        about: Mapping[str, str] | None = None
        owner = False
        evidence: list[Signal] = []
        for s, p in scored:
            if s.override:
                overrides.add(s.override)
                evidence.append(s)
            elif p > 0:
                evidence.append(s)
            if about is None and s.about:
                about = s.about
            if s.code in OWNERS:
                owner = True
        cfg = self.cfg
        action: Action
        if "block" in overrides:
            action = "block"
        elif "hold" in overrides:
            action = "hold"
        elif "allow" in overrides:
            action = "deliver"
        elif total >= cfg.block:
            action = "block"
        elif total >= cfg.hold:
            action = "hold"
        elif total >= cfg.warn:
            action = "warn"
        else:
            action = "deliver"
        on_doubt = action in ("hold", "block") and self.rests_on_doubt(
            zip(map(_CODE, map(_SIGNAL, scored)), map(_POINTS, scored), strict=True), total)
        if on_doubt and not overrides:
            # Doubt the owner can answer keeps the message, never drops it: a pass of the
            # challenge releases what such a hold kept (a dropped message could not be).
            action = "hold"
        if action in ("hold", "block") and not overrides and self._uncorroborated(scored):
            action = "warn"
            if owner:
                # Most likely the owner, and nobody can be sure: the recipient is told so,
                # rather than that the account was taken over or the words are spam.
                about = {"topic": "owner"}
        elif action == "warn" and owner and (about or {}).get("topic") == "hijack":
            # Warned on the session's own volume and trace of burst: the session is judged
            # the owner's, so the recipient is not told the account was taken over.
            about = {"topic": "owner"}
        reason = "; ".join(map(_DETAIL, evidence[:2]))
        kind = in_force
        if not (action == "deliver" and "allow" in overrides):
            if account_points >= cfg.suspend_sending:
                kind = "suspend_sending"
            elif kind == "none" and (account_points >= cfg.challenge or (
                    on_doubt and action in ("hold", "block"))):
                kind = "challenge"
        # The session the action is about: a suspension's scope, and the session the IM
        # server asks to answer a challenge (its ``challenge`` event names it back).
        account_action = _NO_ACTION if kind == "none" else AccountAction(
            action=kind, account=account, reason=reason, session=session)
        return Decision(
            action=action, score=total,  # rounded (``_scored``): ``round`` gives it back
            # Each signal's points to 3 decimals, but nothing: ``round`` (correctly rounded,
            # ~2,500 instructions a call) gives 0 of either sign back as it is, and most
            # signals weigh nothing (CONVERSATION, OWNER_CONSISTENT...).
            signals=[SignalOut(s.code, round(p, 3) if p else p, s.detail) for s, p in scored],
            account_action=account_action, reason=reason, about=about)
