"""How much a user's report counts: the one report-trust model every learner uses.

Reports are how spimguard learns after day one (the content model's online
part, domain reputation, campaign confirmation), and the people it is meant to
stop can send reports too. So the engine weighs each report here once, and the
learners only ever see what it weighs.

**A report's weight** ``w`` is 0 unless the reporter *received* the reported
message (the verdict log keeps a digest of its recipients), is not its sender,
has not reported that message before, and has made fewer than
``reporter_daily_cap`` reports in the last day (every report it makes counts
against the cap, those that weigh nothing too). Otherwise::

    w = min(age, footprint) · standing · record
    age       = new_weight if the reporter was first seen under new_reporter_age ago, else 1
    footprint = new_weight + (1 − new_weight) · min(1, n / full_footprint)
    standing  = suspect_weight if the reporter is under restriction, else 1
    record    = min(max_record_weight, 2 (a + 1) / (a + o + 2))

where ``a`` and ``o`` count the reporter's earlier reports that later operator
decisions or confirmed campaigns agreed with, or overturned, in the last
year: a Laplace-smoothed agreement rate, doubled so a reporter with no record
weighs 1, an accurate one up to ``max_record_weight`` and one that is often
overturned towards 0.

**Footprint: who else the reporter lives with.** A report is evidence about a
text only as far as its reporter is a person of its own, one the sender does not
control. Age says little (aging a sock puppet costs two days of waiting), and no
record is no evidence. What an honest reporter has and a sock lacks is a life on
the platform with people other than the sender: ``n`` counts the reporter's
correspondents (``accounts.TALKED``: the accounts that wrote it delivered or
warned messages in the last 180 days, kept by the engine for every message; its
own messages make none, for a sock could write to anyone) other than the
reported message's sender and the message's earlier reporters of the same label,
at the share of them outside those reporters' circles. A sock that only ever
received from the attacker's sender has ``n = 0`` and weighs at most
``new_weight`` however old it is; full weight takes ``full_footprint`` people of
its own (``min(age, footprint)``: a new account with friends weighs
``new_weight`` as before, not less).

**Reporters of no footprint are one voice.** Whatever their number, the
``n = 0`` reporters of one message add at most ``new_weight`` to a label (the
first takes it, later ones what is left, usually 0); and one such reporter has
``new_weight`` to give in all, over every message it reports within a year
(``trust:alone``), not per message: its whole life is the sender, so each
further copy it received from that sender is the same voice again. Three aged
socks that received a line each make ``3 · new_weight`` in all, not 3 per line
(what three fresh throwaways could always do); a family who only talk among
themselves count once per message. A reporter's budget renews only by gaining
a life (then ``n > 0`` and this rule no longer applies), never by waiting.

**Counting people is not weighing.** Where reporters are counted as people (a
session's, ``detectors/sessions.py``), a reporter is a person of its own only with a
life an attacker cannot make in minutes (``voice``): past ``new_reporter_age`` with
correspondents of its own outside the reported message's audience, or past
``quiet_reporter_age`` (a month) with delivered lines of its own to others. Every
other reporter is one voice with the rest, so ten throwaways that write each other a
line are one person, as are three accounts put in the victim's group where its
friends chat, and six month-old users who write to friends nobody here sees answer
are six. Its own lines buy a reporter no weight.

Circles are compared by bottom-``circle_sample`` samples of the correspondents'
digests, kept with the message's reports: two reporters with the same circle
have the same sample however large it is (the MinHash property), so a ring of
socks that all chat with each other is one circle whatever its size, while two
honest reporters share a few friends at most and each keeps most of its own.

Contact lists count for nothing here: a list is the account's own claim (a sock
lists whomever it likes), and whether the people listed list it back, or
whether those who wrote to it are themselves established, is a fact about
*them*, which would take a second read per report after the first (who they
are is known only once the first read answers); the engine reads a report's
facts in one round trip.

**What the attacker reading this does next, and what it costs.** It gives each
sock a life: ``full_footprint`` other accounts whose messages to the sock (or
the sock's to them) were delivered. Socks reporting the *same* message add up
only with *disjoint* circles (three reporters: three separate sets of
``full_footprint`` accounts), and each such account must keep its messages
ordinary enough to be delivered. What remains open, and is the honest limit of
facts about the reporter alone: the filler accounts need no age or standing of
their own (a fresh account writing to the sock counts), so about
``full_footprint`` extra accounts per sock buy it full weight on every copy it
receives; closing that takes evidence about the correspondents themselves
(established, listed both ways, with lives beyond the ring), the second round
of reads above. The learners' own bounds (one unit per message, ``max_shift``
in all, campaign and wave detectors needing several *distinct* reporters of
weight) still apply.

**A message's net label** is what learners learn from it::

    a_m = clip(S_m − H_m, −1, 1)        S_m, H_m: summed weights of its spam / ham reports
    a_m = ±1                            once an operator decided (user reports stop counting)

Learners move by the change of ``a_m`` a report causes (``Weighing.before`` →
``after``), never by the report itself. Hence the bounds an attacker meets:

- reports from outside the message's recipients, from its sender, or repeated
  weigh nothing; a mob of recipients with no footprint (throwaway or aged) weighs
  ``new_weight`` in all;
- one message moves any learner by at most one unit (|a_m| ≤ 1), however many
  report it; a ham report cancels at most its own weight, and only on its own
  message: every learner reads users' reports as ``max(a_m, 0)`` (reputation,
  campaigns, waves, and the content model through ``taught``), so ham reports on
  a spammer's own copies cancel nothing reported on the copies honest users
  received and teach no learner that the pitch is ham: only an operator does;
- an operator's decision (``decide``) outranks every user report and moves
  the reporters' records.

Recipients are kept as 8-byte BLAKE2b digests, at most ``max_kept_recipients``
of them (the smallest digests: a sample no sender can choose). A recipient of
a larger broadcast outside the sample cannot be told from a stranger, and its
report weighs nothing.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from . import accounts
from .events import EventTime, Report
from .records import LogEntry
from .state.ops import Count, Get, Incr, Members, Put, Query, Write

if TYPE_CHECKING:
    from .engine import Engine
    from .events import Accepted

KEEP = "trust"  # the verdict log's ``keep`` entry: the recipients' digests
_DAY = 86_400.0
_YEAR = 365 * _DAY
_DIGEST = 8
_MAX_REPORTERS = 64  # reporters remembered per message and label (|a_m| is clipped anyway)


@dataclass(frozen=True)
class TrustConfig:
    """``[trust]``: what a user report weighs (see the module docstring)."""

    reporter_daily_cap: int = 20  # reports per reporter per day that can count at all
    new_reporter_age: float = 172_800.0  # seconds an account counts as new ...
    new_weight: float = 0.3  # ... and what its reports weigh (and those with no footprint)
    # Correspondents besides the sender that make a reporter an independent person: a
    # handful, what anyone who uses a messenger has (simulated users have 3 or more
    # contacts and talk mostly to a few), and what a sock has only if others chat with
    # it; more would weigh down honest users who talk to two or three people.
    full_footprint: float = 3.0
    # Age past which a reporter's own delivered lines to others make it a person of its
    # own among a sender's reporters (``voice``): a month, the takeover detector's
    # ``established_after``, the age that makes an account established by itself.
    quiet_reporter_age: float = 2_592_000.0
    # Correspondents' digests kept per reporter to compare circles: bottom-k samples of
    # 16 tell "the same circle" (all 16 shared) from two people sharing a friend or two
    # (a few shared) at 8 bytes each, 128 bytes per reporter kept with the message.
    circle_sample: int = 16
    suspect_weight: float = 0.1  # weight of a report from an account under restriction
    max_record_weight: float = 1.5  # a reporter with a record of agreement weighs at most this
    max_kept_recipients: int = 1_024  # recipients' digests kept per message
    remember_days: float = 90.0  # how long a message's reports are remembered


class OperatorDecision(Report, frozen=True, tag="operator_decision"):
    """An operator's label for a message: outranks user reports.

    Not part of the wire contract (``events.Event`` does not list it), so no
    client can send one: only ``decide`` makes it."""


class Weighing(NamedTuple):
    """What one report did: its weight, why, and the message's net label before and after."""

    weight: float
    why: str
    before: float
    after: float
    # The reporter is no person of its own to count among a sender's reporters (what
    # counts people, not weight, needs it: ``voice``): one voice with every such reporter.
    alone: bool = False

    @property
    def spam_before(self) -> float:
        return max(self.before, 0.0)

    @property
    def spam_after(self) -> float:
        return max(self.after, 0.0)


def taught(report: Report, weighing: Weighing) -> float:
    """What a message teaches a learner that learns both labels (the content model's
    online part) once ``report`` is counted: an operator's label in full, users' reports
    only their spam evidence, ``max(a_m, 0)``.

    A sender chooses its recipients, so its own accounts can always receive its copies
    and call them ham: what they say can take back spam evidence on the message they
    received (a ham report cancels its own weight there), never vouch for the text
    wherever else it is sent. Two throwaways' ham reports on two copies of a pitch
    moved it by −5 log-odds for every recipient (``max_shift``), which turned its
    copies from 20 rotating bots from 20 blocked to 14 held and 6 warned (red team,
    session 13)."""
    return weighing.after if isinstance(report, OperatorDecision) else weighing.spam_after


def _digest(account: str) -> bytes:
    return hashlib.blake2b(account.encode("utf-8", "surrogatepass"),
                           digest_size=_DIGEST).digest()


def kept_recipients(recipients: Sequence[str], cap: int) -> bytes:
    """The digests of a message's recipients, sorted, the ``cap`` smallest."""
    digests = sorted({_digest(r) for r in recipients})[:cap]
    return b"".join(digests)


def _split(raw: bytes) -> list[bytes]:
    """The digests of ``raw``, digests joined (kept recipients, a circle's sample)."""
    return [raw[i:i + _DIGEST] for i in range(0, len(raw), _DIGEST)]


def received(kept: bytes, account: str) -> bool:
    """Whether ``account`` is among the recipients kept by ``kept_recipients``."""
    digests = _split(kept)
    wanted = _digest(account)
    at = bisect_left(digests, wanted)
    return at < len(digests) and digests[at] == wanted


def _message_key(message_id: str) -> str:
    return f"trust:msg:{message_id}"


def _daily_key(reporter: str) -> str:
    return f"trust:daily:{reporter}"


def agreed_key(reporter: str) -> str:
    """Reports of this reporter that an operator or a confirmed campaign agreed with."""
    return f"trust:agreed:{reporter}"


def _overturned_key(reporter: str) -> str:
    return f"trust:overturned:{reporter}"


def _alone_key(reporter: str) -> str:
    """The weight the reporter's reports carried while it had no footprint."""
    return f"trust:alone:{reporter}"


def agreed(reporter: str) -> Incr:
    """The write that credits one report of ``reporter`` as agreed with."""
    return Incr(agreed_key(reporter), 1.0, _DAY, _YEAR)


def standing_reads(reporter: str) -> tuple[Query, ...]:
    """What a reporter's standing is read from: its account's record (restrictions, first
    seen), its record of reports."""
    return (accounts.record(reporter),
            Count(agreed_key(reporter), _YEAR, _DAY),
            Count(_overturned_key(reporter), _YEAR, _DAY))


def reads(report: Report) -> tuple[Query, ...]:
    who = report.reporter
    ties = accounts.tie_record(who)
    return (Get(_message_key(report.message_id)), Count(_daily_key(who), _DAY, 3600.0),
            Members(ties, accounts.TALKED), Members(ties, accounts.OWNER_WROTE),
            Count(_alone_key(who), _YEAR, _DAY), *standing_reads(who))


def net(state: dict[str, Any]) -> float:
    """a_m of a message's report state."""
    if state.get("operator"):
        return 1.0 if state["operator"] == "spam" else -1.0
    total = sum(state.get("spam", {}).values()) - sum(state.get("ham", {}).values())
    return max(-1.0, min(1.0, total))


def _parts(facts: Sequence[Any], now: float, cfg: TrustConfig
           ) -> tuple[float, float, list[str], float | None]:
    """(age, standing · record, why, seconds since first seen: None, never) of a
    reporter (``facts``: ``standing_reads``)."""
    stored, good, bad = facts
    restricted, first = accounts.restrictions_of(stored, now), accounts.first_seen_of(stored, now)
    seen = None if first is None else now - first
    weight = min(cfg.max_record_weight, 2 * (good + 1) / (good + bad + 2))
    why = [f"record {good:.0f} agreed, {bad:.0f} overturned"]
    age = 1.0
    if seen is None or seen < cfg.new_reporter_age:
        age = cfg.new_weight
        why.append("a new account")
    if restricted:
        weight *= cfg.suspect_weight
        why.append("under restriction")
    return age, weight, why, seen


def standing(facts: Sequence[Any], now: float, cfg: TrustConfig) -> tuple[float, str]:
    """What a report of this reporter weighs at ``now`` (``facts``: the answers to
    ``standing_reads``) before the checks of the one message it reports (its footprint
    among them), and why."""
    age, weight, why, _ = _parts(facts, now, cfg)
    return age * weight, ", ".join(why)


def _circle(sample: str) -> set[bytes]:
    return set(_split(bytes.fromhex(sample)))


def _footprint(correspondents: Sequence[str], sender: str, reporter: str,
              state: dict[str, Any], label: str, audience: bytes, cfg: TrustConfig
              ) -> tuple[float, str, int]:
    """``n``, the reporter's correspondents of its own, its circle's sample (hex) to keep
    with its report, and how many of them are outside the reported message's
    ``audience`` (its kept recipients: ``voice``): its correspondents but the sender and
    the message's earlier reporters of ``label``, ``n`` counted at the share of the
    sample outside their circles."""
    earlier = state.get(label, {})
    left_out = {sender, reporter, *earlier}
    own = sorted({_digest(c) for c in correspondents if c not in left_out})
    sample = own[:max(1, cfg.circle_sample)]
    if not sample:
        return 0.0, "", 0
    heard = set(_split(audience))
    abroad = sum(d not in heard for d in own)
    circles = state.get("circles", {})
    covered = set().union(*(_circle(circles.get(r, "")) for r in sorted(earlier)))
    fresh = sum(d not in covered for d in sample)
    # A circle all covered adds nothing to keep: the reporter joins the one voice.
    return len(own) * fresh / len(sample), b"".join(sample).hex() if fresh else "", abroad


def voice(age: float | None, abroad: int, wrote: Sequence[str], left_out: set[str],
          cfg: TrustConfig) -> bool:
    """Whether a reporter, first seen ``age`` seconds ago (None: never), counts as a
    person of its own among a sender's reporters (``Weighing.alone`` when not), where
    weight does not: a session's reporters are counted as people
    (``detectors/sessions.py``), and ten reports from one attacker's accounts are one
    person's.

    What makes a person is a life the attacker cannot make in minutes. A new account's
    can be: ten throwaways writing each other a line each have correspondents of their
    own, so a reporter under ``new_reporter_age`` is one voice whatever its footprint
    (before: ten such throwaways in the victim's group held its phone for a week).
    Past that age a reporter with correspondents of its own (others wrote to it) is a
    person, but only those ``abroad``, outside the reported message's audience (its
    recipients) count: ties within the audience are what an account gets by being put
    there, for the group's talkers write to every member and the planted accounts can
    write each other, so three two-day-old accounts added to the victim's group where
    its friends chat were three people and held its phone (red team, session 14). So is
    a quiet one, past ``quiet_reporter_age``, that ``wrote`` delivered lines
    to people other than ``left_out`` (the sender, itself, the message's earlier
    reporters): a month-old user who writes to a friend it hears from elsewhere
    (another app, the table) has no correspondents here, and is no one else's voice;
    so are the members of a month-old family that only talks among itself, in the
    group an intruder writes in (their lines to each other). Its own lines are its own
    act, written to anyone, so they buy no weight (``_weight``: that takes what others
    did) and, younger, no voice: what an attacker buys with them is a vote among a
    session's reporters per account aged a month and in the victim's group, whose
    reports of no footprint have ``new_weight`` to give in all for a year
    (``trust:alone``): ten of them, spent, for one victim's week.

    Its lines are read where the takeover detector keeps them: the owner's writing,
    ``accounts.OWNER_WROTE`` (delivered or warned, clean, from a session nothing says
    is an intruder's, to at most 50). Session 24 dropped the relationship detector's
    record of every delivered line to at most five, which held the same fact twice
    (``accounts``); of the records left, this is the reporter's own act, as the
    question is (the engine's ``TALKED`` is what others did, ``abroad`` above). It is
    stricter, so it errs towards fewer voices: a line that carried evidence against
    it, or came from a session under doubt (what a user whose phone was taken did not
    write), makes none. Its wider fan-out gives an attacker nothing: a line to a group
    of up to 50 makes a voice, where a sock could already make one with a line to any
    account but the sender. With the takeover detector disabled the side is never
    written: no quiet reporter is a voice of its own (those with correspondents
    ``abroad`` still are), so a session's reporters count fewer people, and what counts
    them (``detectors/sessions.py``) acts later, never sooner: the direction an operator
    who turned off the detector that guards sessions can least be hurt by, for what it
    bounds is reports holding a victim's phone."""
    if age is None or age < cfg.new_reporter_age:
        return False
    return abroad > 0 or (age >= cfg.quiet_reporter_age
                     and any(p not in left_out for p in wrote))


def _weight(report: Report, reported: LogEntry | None, state: dict[str, Any],
            facts: dict[Query, Any], cfg: TrustConfig
            ) -> tuple[float, str, str | None, bool]:
    """The report's weight, why, the reporter's circle sample to keep (None: the report
    does not count at all; "": a reporter of no footprint, one voice in weight), and
    whether the reporter is a person of its own among a sender's reporters (``voice``)."""
    who = report.reporter
    if reported is None:
        return 0.0, "the reported message is no longer in the log", None, False
    if isinstance(report, OperatorDecision):
        return 1.0, "an operator's decision", "", True
    if reported.account == who:
        return 0.0, "the sender reported its own message", None, False
    kept = reported.keep.get(KEEP, b"")
    if not received(kept, who):
        return 0.0, "the reporter did not receive the message", None, False
    if any(who in state.get(label, {}) for label in ("spam", "ham")):
        return 0.0, "the reporter already reported this message", None, False
    daily, talked, wrote, alone, *standing_facts = (facts[q] for q in reads(report)[1:])
    if daily >= cfg.reporter_daily_cap:
        return 0.0, f"over {cfg.reporter_daily_cap} reports today", None, False
    age, weight, why, seen = _parts(standing_facts, report.ts, cfg)
    n, circle, abroad = _footprint(talked, reported.account, who, state, report.label, kept,
                                   cfg)
    lived = 1.0 if n >= cfg.full_footprint else n / cfg.full_footprint
    weight *= min(age, cfg.new_weight + (1 - cfg.new_weight) * lived)
    why.append(f"{n:.1f} correspondents of its own")
    person = voice(seen, abroad, wrote, {reported.account, who, *state.get(report.label, {})}, cfg)
    if not n:  # no life apart from the sender and the other reporters: one voice
        alike = state.get("alike", {}).get(report.label, 0.0)
        if alike:
            why.append(f"one voice with earlier reporters of no footprint ({alike:.2f})")
        if alone:
            why.append(f"{alone:.2f} spent on earlier reports of no footprint")
        weight = max(0.0, min(weight, cfg.new_weight - alike, cfg.new_weight - alone))
    return weight, ", ".join(why), circle, person


def weigh(report: Report, reported: LogEntry | None, facts: dict[Query, Any],
          cfg: TrustConfig) -> tuple[Weighing, list[Write]]:
    """The report's weight and its effect on the message's net label, and the writes
    that remember it (the reporter's daily count, the message's reports, records)."""
    key = Get(_message_key(report.message_id))
    state: dict[str, Any] = dict(facts[key] or {})
    before = net(state)
    weight, why, circle, person = _weight(report, reported, state, facts, cfg)
    writes: list[Write] = [Incr(_daily_key(report.reporter), 1.0, 3600.0, _DAY)]
    if weight and isinstance(report, OperatorDecision):
        writes.extend(_records(state, report.label))
        state["operator"] = report.label
    elif circle is not None and not state.get("operator"):
        # Remembered even at weight 0 (one voice with earlier reporters): it reported
        # this message once, and an operator's decision moves its record.
        reporters = dict(state.get(report.label, {}))
        if len(reporters) < _MAX_REPORTERS:
            reporters[report.reporter] = weight
            state[report.label] = reporters
            if circle:
                state["circles"] = {**state.get("circles", {}), report.reporter: circle}
            else:
                alike = dict(state.get("alike", {}))
                alike[report.label] = alike.get(report.label, 0.0) + weight
                state["alike"] = alike
                if weight:
                    writes.append(Incr(_alone_key(report.reporter), weight, _DAY, _YEAR))
    after = net(state)
    if state != (facts[key] or {}):
        writes.append(Put(key.key, state, cfg.remember_days * _DAY))
    return Weighing(weight, why, before, after, circle is not None and not person), writes


def _records(state: dict[str, Any], label: str) -> list[Write]:
    """Every earlier reporter of the message: agreed with, or overturned."""
    out: list[Write] = []
    for said in ("spam", "ham"):
        for reporter in sorted(state.get(said, {})):
            out.append(agreed(reporter) if said == label else
                       Incr(_overturned_key(reporter), 1.0, _DAY, _YEAR))
    return out


def decide(engine: Engine, message_id: str, label: str, operator: str = "operator",
           ts: float | None = None) -> Accepted:
    """An operator labels a message spam or ham (the console and API call this).

    It outranks user reports: the message teaches every learner as ``label`` at
    full weight from now on, later user reports on it change nothing, and the
    records of the users who reported it move (agreed or overturned)."""
    if label not in ("spam", "ham"):
        raise ValueError(f"label {label!r}: use 'spam' or 'ham'")
    now = engine.now() if ts is None else ts
    result = engine.process(OperatorDecision(
        id=f"operator:{message_id}:{label}:{now}", ts=EventTime(now), reporter=operator,
        message_id=message_id, label=label))  # type: ignore[arg-type]
    return result  # type: ignore[return-value]
