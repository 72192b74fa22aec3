"""The one place that decides: signals to points, points to an action.

points(signal) = weight[code] × strength, weights from config (``data/scores.toml``
under the operator's ``[scores]``). Signals of one group are evidence of one fact,
so a group's points are capped (``[group_caps]``) and its signals scaled down to
the cap, keeping the listed scores equal to the total. The action is the highest
threshold at or below the total: deliver < warn < hold < block.

Overrides are named results, not magic scores: block > hold > allow.

Independent evidence: a group is one *kind* of evidence (what the words say, how
the account behaves, what a link is, ...). Between people in a conversation
(a signal of the ``relationship`` group: mutual contacts who write to each
other) the relationship is evidence too, and it outweighs what the words alone
say (the ``content`` group: friends' price lists and shouting read like adverts;
the shape of a link, LINK_PHISHY, is read like the words, for a friend's link to a
little-known site is no campaign's) unless the words are near certain: holding then
needs another kind of evidence that would warn on its own, or content that would
block on its own; otherwise
the message is warned. Other kinds are not bounded: a hijacker inherits the
victim's conversations, and a domain users reported stays reported between
friends. Points are not changed, only the action is bounded.

The owner's own habit (FAMILIAR_SENDER: its usual app on its usual network,
writing to its own contacts) bounds one kind more: how much and how widely the
account writes (the ``velocity`` group, near-duplicates included) is then the
owner's doing, an announcement to everyone it knows ("this is my new number"),
not evidence that someone else is writing. Words and volume together warn; a
hold needs words that would block on their own or another kind (a reported or
spreading link, a confirmed campaign, the rules).

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

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import Config
from .events import AccountAction, SignalOut
from .signals import Signal

RELATIONSHIP = "relationship"  # the group of evidence that sender and recipients converse
CONTENT = "content"  # the group of what the words (and the links' shapes) alone say
VOLUME = "velocity"  # the group of how much and how widely the account writes
OWNER = "FAMILIAR_SENDER"  # the owner's usual app and network, to its own contacts


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    score: float
    signals: list[SignalOut]
    account_action: AccountAction
    reason: str  # the strongest evidence in words, for notices
    about: Mapping[str, str] | None = None  # notice facts of the strongest signal with any


_NOTHING = Decision(action="deliver", score=0.0, signals=[], account_action=AccountAction(),
                    reason="")


class Policy:
    def __init__(self, config: Config) -> None:
        self.cfg = config.policy
        self.weights = dict(config.scores)
        self.groups = dict(config.groups)
        self.caps = dict(config.group_caps)

    def _group(self, signal: Signal) -> str:
        return self.groups.get(signal.code, signal.code)

    def _scored(self, signals: Sequence[Signal]) -> tuple[list[tuple[Signal, float]], float,
                                                          float]:
        raw = [(s, self.weights.get(s.code, 1.0) * s.strength) for s in signals]
        per_group: dict[str, float] = defaultdict(float)
        for signal, points in raw:
            per_group[self._group(signal)] += points
        scale = {g: self.caps[g] / total for g, total in per_group.items()
                 if g in self.caps and total > self.caps[g] > 0}
        scored = [(s, p * scale.get(self._group(s), 1.0)) for s, p in raw]
        # The action follows the score as the verdict shows it (3 decimals): 4 + 10 × 0.9 / 3
        # reaches a hold threshold of 7 rather than falling a float's last bit short.
        total = round(sum(p for _, p in scored), 3)
        account = sum(p for s, p in scored if self.groups.get(s.code) in self.cfg.account_groups)
        return scored, total, account

    def _uncorroborated(self, scored: Sequence[tuple[Signal, float]]) -> bool:
        """In a conversation, or from the owner's own habit, are the words (not near
        certain), with the owner's own volume, the only evidence that would warn on its
        own?"""
        kinds: dict[str, float] = defaultdict(float)
        for signal, points in scored:
            kinds[self._group(signal)] += points
        owner = self.groups.get(OWNER, OWNER)
        if owner in kinds:
            bounded = {CONTENT, VOLUME}
        elif RELATIONSHIP in kinds:
            bounded = {CONTENT}
        else:
            return False
        agreeing = {g for g, p in kinds.items()
                    if g not in (RELATIONSHIP, owner) and p >= self.cfg.warn}
        return agreeing <= bounded and kinds[CONTENT] < self.cfg.block

    def decide(self, signals: Sequence[Signal], account: str, session: str,
               in_force: str = "none") -> Decision:
        if not signals and in_force == "none":
            return _NOTHING
        scored, total, account_points = self._scored(signals)
        scored.sort(key=lambda sp: sp[1], reverse=True)
        overrides = {s.override for s, _ in scored if s.override}
        cfg = self.cfg
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
        if action in ("hold", "block") and not overrides and self._uncorroborated(scored):
            action = "warn"
        evidence = [s for s, p in scored if p > 0 or s.override]
        reason = "; ".join(s.detail for s in evidence[:2])
        kind = in_force
        if not (action == "deliver" and "allow" in overrides):
            if account_points >= cfg.suspend_sending:
                kind = "suspend_sending"
            elif account_points >= cfg.challenge and kind == "none":
                kind = "challenge"
        account_action = AccountAction(
            action=kind, account=account if kind != "none" else "",
            reason=reason if kind != "none" else "",
            session=session if kind == "suspend_sending" else "")
        return Decision(
            action=action, score=round(total, 3),
            signals=[SignalOut(s.code, round(p, 3), s.detail) for s, p in scored],
            account_action=account_action, reason=reason,
            about=next((s.about for s, _ in scored if s.about), None))
