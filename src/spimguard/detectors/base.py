"""The one shape every detector has (Rspamd's CHECK / UPDATE split).

``reads`` names the state a detector needs for an event; the engine fetches the
reads of all detectors in one round trip and passes the answers as ``facts``.
``detect`` turns the event and facts into signals, without writing anything.
``writes`` runs once the verdict is known and returns the state changes to make,
so what a detector learns can depend on the decision (and is never half done).

A read only some branches of ``detect`` reach may wait for the branch: named with the
event's plan in ``Context.deferred``, it is read when asked (``read_more``), still before
the verdict and as of the event's first read, so the answers are those of reading it with
the rest, on every backend and in batches of any size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import fields
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

from .. import accounts
from ..errors import ConfigError
from ..events import Event, Message
from ..records import LogEntry
from ..signals import Signal
from ..state.ops import Append, Contains, Get, Query, Since, Write
from ..text import MessageView
from ..trust import Weighing

Facts = Mapping[Query, Any]
_NO_ACCOUNT = accounts.Account()  # no record: a context's account before the engine reads it
S = TypeVar("S")  # a detector's settings class
_log = logging.getLogger(__name__)


class Context(msgspec.Struct):
    """One event as the detectors see it: a struct, made in C (the engine makes one an
    event; a dataclass's ``__init__`` ran the assignments of its seventeen fields in
    bytecode)."""

    event: Event
    view: MessageView | None = None  # messages only
    # How the recipients' ids appear in a text that greets them (``text.names_of``):
    # what personalises each copy of a pitch. Messages only.
    names: tuple[str, ...] = ()
    reported: LogEntry | None = None  # reports only: the reported message, if still logged
    trust: Weighing | None = None  # reports only: what the report-trust model made of it
    # Per-event memo for a detector's own derived values (keyed by detector name),
    # so reads, detect and writes share one computation.
    scratch: dict[str, Any] = msgspec.field(default_factory=dict)
    # What a detector asks the verdict log to keep about this event (keyed by
    # detector name), handed back in ``reported.keep`` when a report names it.
    keep: dict[str, bytes] = msgspec.field(default_factory=dict)
    # The near-duplicate cluster the bulk detector placed a message in, and whether
    # that cluster is a campaign already: the engine records campaign messages.
    cluster: str = ""
    campaign: bool = False
    # The session an account action on a message is scoped to when it is not the one the
    # message names: set by the takeover detector for a message from an app or network
    # its session's sign-in never showed (``takeover/session.py``), so a stolen session
    # id's suspension stops its holder, not the owner's device. "": the message's own.
    acting: str = ""
    # What the batch's detectors keep for its end (``Finishing``, marked ``BATCH_COMMITS``):
    # one dict for every context the engine plans in one batch, a context's own when made
    # alone.
    batch: dict[Hashable, Any] = msgspec.field(default_factory=dict)
    # Memo of what events share (``shared``): the engine's, kept across its batches
    # (``Engine._plan_batch``), a context's own when made alone.
    plans: dict[Hashable, Any] = msgspec.field(default_factory=dict)
    # The record of the event's account as read, its live parts (``accounts.alive``): set
    # by the engine before any detector's ``detect``, so none decodes it again.
    account: accounts.Account = _NO_ACCOUNT
    # Queries a detector's judgement may need that its ``reads`` left out, for only some of
    # its branches reach them (``read_more``): added while the event is planned, so the
    # embedded SQLite loads their keys with the batch's and a shared store, which reads
    # nothing outside an event's claim, reads them with the rest.
    deferred: tuple[Query, ...] = ()
    # How ``read_more`` reads them while detectors detect (set by the engine then, None
    # before and after: a read is never made once the verdict is known). On a shared
    # store, whose event reads everything planned with its claim, ``deferred`` too, it
    # reads only what a first read names (``Engine._read_more``), in the event's claim.
    more: Callable[[Sequence[Query]], None] | None = None
    # The event when it is a message, else None, and its recipients as a tuple (a key
    # part of ``shared``): set once, when the context is made (``__post_init__``), for
    # detectors ask them some fifteen times an event (whatever a caller passes for them).
    message: Message | None = None
    to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        message = self.message = self.event if isinstance(self.event, Message) else None
        self.to = tuple(message.recipients) if message is not None else ()


class Outcome(msgspec.Struct, frozen=True):
    """What the policy decided, as detectors may learn from it (built in C, once an
    event: a dataclass's ``__init__`` runs its fields' assignments as bytecode)."""

    action: str  # deliver | warn | hold | block | accepted
    score: float
    account_action: str  # none | challenge | suspend_sending
    signals: frozenset[str] = frozenset()  # the codes that fired
    campaign: str = ""  # the campaign the verdict names, if any


class Detector(Protocol):
    name: str

    # ``reads`` depends on the event (its context) and the detector's settings only, never
    # on what a learner has learnt: the engine plans a batch's reads before judging its
    # first event, so that an embedded store loads them all at once (``engine._plan_batch``).
    def reads(self, ctx: Context) -> Sequence[Query]: ...

    def detect(self, ctx: Context, facts: Facts) -> Sequence[Signal]: ...

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]: ...


# The events a detector's ``writes`` can give anything for, as its class declares them in
# ``writes_for`` (a detector that declares nothing: every event). The engine asks no other
# (``Engine._roles``): seven of the thirteen detectors write nothing for a message, and the
# call that said so cost ~1,000 instructions each, every message. ``WRITES_REPORTS``: only
# an event weighed as a report (``Context.trust`` set: a learner of what users report);
# ``WRITES_NONE``: never (the detector keeps nothing of what it judged).
WRITES_ANY, WRITES_REPORTS, WRITES_NONE = "any", "reports", "none"
# The same three for ``reads``, declared in ``reads_for``: rules never reads, content and
# waves read only for a report (the reported message's record); the engine asked each of
# the three at every message, for nothing (``plan43``).
READS_ANY, READS_REPORTS, READS_NONE = WRITES_ANY, WRITES_REPORTS, WRITES_NONE


def writes_for(detector: Detector) -> str:
    """The events ``detector``'s ``writes`` can give anything for (``WRITES_ANY`` ...):
    ``_declared``."""
    return _declared(detector, "writes")


def reads_for(detector: Detector) -> str:
    """The events ``detector``'s ``reads`` can name any query for (``READS_ANY`` ...):
    ``_declared``. A detector not asked names no query for the event: its ``detect`` and
    ``writes`` must then ask the facts for none (a declaration is held by a test that asks
    every detector for every event: ``test_plan43``)."""
    return _declared(detector, "reads")


def _declared(detector: Detector, method: str) -> str:
    """The events ``detector``'s ``method`` can give anything for, as its class declares
    them in ``<method>_for``: asked of its class, so an instance's attribute of the name
    is not a declaration. A declaration speaks for the method beside it or inherited by
    it: a subclass that overrides the method without declaring again is asked for every
    event, not silently never (``review42``)."""
    mro = type(detector).__mro__
    name = f"{method}_for"
    declared = next((i for i, c in enumerate(mro) if name in vars(c)), None)
    written = next((i for i, c in enumerate(mro) if method in vars(c)), len(mro))
    if declared is None or declared > written:
        return WRITES_ANY
    return str(vars(mro[declared])[name])


@runtime_checkable
class Learner(Protocol):
    """A detector that also keeps learnt state in process memory (a model's online part).

    ``rebuild`` runs when the engine opens, at each maintenance pass and when a node
    is further behind the log of learnt changes than the log keeps (``LOG_KEEP``), with
    a function that answers queries against the state backend: the detector
    recomputes what it learnt from durable state, so a restart loses nothing
    and what has expired in state stops counting. ``update`` runs when another node
    changed what the log names: the cost of what changed, not of all that is
    remembered. Detectors without them hold nothing between events.
    """

    def rebuild(self, read: Callable[[Sequence[Query]], list[Any]]) -> None: ...

    def update(self, read: Callable[[Sequence[Query]], list[Any]], keys: Sequence[str]
               ) -> None:
        """Read the remembered messages ``keys`` again and hold what state holds of them
        now, as a ``rebuild`` would: the state afterwards is the same, bit for bit, as
        after a rebuild, whatever order the changes came in and however often one is
        read."""
        ...

    # A learner adds ``learnt(name, keys)`` to its writes whenever it changes learnt
    # state, so that every node (one sharing Redis with it) reads those keys again
    # before its next verdict.


@runtime_checkable
class Batched(Protocol):
    """A detector that does part of its work for a whole batch at once (numpy's cost per
    call paid once, not per message): ``prepare`` gets the contexts of the batch's events
    planned ahead (``engine._plan_batch``), in order, before the first is judged, and
    keeps what it computes in each one's ``scratch``.

    Only what no earlier event of the batch can change may be computed there, or it must
    be checked when used: an event sees the effects of those before it, as when judged
    alone. A context judged without it (planned afresh after a retry) has no scratch
    entry and is computed then."""

    def prepare(self, batch: Sequence[Context]) -> None: ...


# ``Context.batch``'s mark of a batch whose writes commit together, in one process (an
# embedded store, ``engine.process_batch``): there a detector may leave a value its events
# rewrite one after another to the batch's end (``Finishing``). Absent: each event's writes
# are its own to commit (shared state claims events one by one), or a context made alone.
BATCH_COMMITS = "batch-commits"


@runtime_checkable
class Finishing(Protocol):
    """A detector that puts some of what a batch's events change once, at the batch's end:
    ``finish`` gets the batch's memo (``Context.batch``, marked ``BATCH_COMMITS``) after its
    last event, before the batch commits, and gives the writes left, each with the event
    time to apply them at. An event of the batch sees what those before it changed as
    when each put its own (the detector answers from the memo); only the store is behind
    until the batch's end, and only for the detector's own keys."""

    def finish(self, batch: dict[Hashable, Any]) -> list[tuple[float, Sequence[Write]]]: ...


SEALED = "sealed"  # the verdict log's mark (in ``keep``) of an end-to-end encrypted message


def sealed(entry: LogEntry | None) -> bool:
    """Whether a logged message was encrypted: nothing was kept of its words, so a report's
    own ``text`` (the reporter's client decrypted it) is all a learner can learn from."""
    return entry is not None and SEALED in entry.keep


LEARNT = "learnt:log"  # what learners changed in shared state, one entry a change
EVERYTHING = "*"  # an entry that names no change: every learner rebuilds from state
# Entries the log keeps. A node reads the log's count at every event it judges and catches
# up on the entries since its last look (``Engine._refresh_learners``), so it is behind by
# what every other node learnt in the time it takes to judge one event; one further
# behind (an idle node, or one restarted) rebuilds from state, as every node did at each
# change before. Applying an entry costs reading one remembered message, a rebuild one per
# remembered message (waves keep up to 10,000): past about a thousand entries, catching
# up is no longer much cheaper than a rebuild. The log holds ~50 KB (an entry is an id, at
# most 512 characters: 2 MB at the very most).
LOG_KEEP = 1_024


def learnt(learner: str = "", keys: Sequence[str] = ()) -> Append:
    """The write a learner adds whenever it changes its learnt state in the state backend,
    naming the remembered messages (``keys``) it changed, so that every node (one sharing
    Redis with it) reads them again before its next verdict (``Engine._refresh_learners``).
    With no keys: a change no entry names (an import), after which every node rebuilds."""
    entries = tuple(f"{learner}:{k}" for k in keys) if keys else (EVERYTHING,)
    return Append(LEARNT, entries, LOG_KEEP)


def learnt_version() -> Since:
    """How many learnt changes the state backend has logged (the count alone)."""
    return Since(LEARNT)


def changes(entries: Sequence[str]) -> dict[str, list[str]] | None:
    """The keys each learner changed, by learner name, from log entries (``learnt``), in
    the order logged and each once; None if one of them asks every learner to rebuild.

    An entry is a learner's name (never with a colon), a colon, then a message id: the
    id may hold anything, colons too, and splitting at the first colon gives it back. The
    ids are those of messages that reports or operators moved; an entry tells a node only
    which remembered message to read again, never what it holds."""
    found: dict[str, dict[str, None]] = {}
    for entry in entries:
        if entry == EVERYTHING:
            return None
        learner, _, key = entry.partition(":")
        found.setdefault(learner, {})[key] = None
    return {learner: list(keys) for learner, keys in found.items()}


def remembered_now(read: Callable[[Sequence[Query]], list[Any]], index: str,
                   key_of: Callable[[str], str], keys: Sequence[str]
                   ) -> list[tuple[str, Any]]:
    """What state holds now of the remembered messages ``keys`` (a learner's ``update``),
    in one read: each key with its stored value (``key_of``), None when the message is no
    longer in the member set ``index`` or its value is gone, as a rebuild would skip it."""
    asked = tuple(keys)
    found = read([Contains(index, asked), *[Get(key_of(k)) for k in asked]])
    return [(key, value if remembered else None)
            for key, remembered, value in zip(asked, found[0], found[1:], strict=True)]


def _defaults(kind: type[Any]) -> dict[str, Any]:
    """A settings class's defaults as config spells them (lists, not tuples), so a value
    from config is checked against the type of its default."""
    return {f.name: list(f.default) if isinstance(f.default, tuple) else f.default
            for f in fields(kind)}


def settings(name: str, kind: type[S], given: Mapping[str, Any]) -> S:
    """A detector's settings: its frozen settings class's defaults overlaid by config, types
    checked per key, so an unknown key fails at start-up and a misspelt read in code at
    type-check (an attribute, not a string key). A key a release retired (the class's
    ``RETIRED``: key -> why) is no misspelling: it is logged and ignored, so the config
    an operator ran the earlier release with still starts this one."""

    merged = _defaults(kind)
    retired: Mapping[str, str] = getattr(kind, "RETIRED", {})
    for key, value in given.items():
        if key == "enabled":
            continue
        if key in retired:  # a release's config must not stop the next from starting
            _log.warning("detectors.%s.%s is no longer a setting (%s): ignored; remove it",
                         name, key, retired[key])
            continue
        if key not in merged:
            raise ConfigError(f"detectors.{name}.{key} is not a setting of {name}")
        default = merged[key]
        if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, int | float) and not isinstance(value, int | float)) or (
                isinstance(default, str) and not isinstance(value, str)) or (
                isinstance(default, list) and not (isinstance(value, list) and all(
                    isinstance(v, str) for v in value))):
            raise ConfigError(f"detectors.{name}.{key} = {value!r} does not fit "
                              f"(default {default!r})")
        merged[key] = value
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()})


def ramp(value: float, soft: float, hard: float) -> float:
    """0 at or below ``soft``, rising linearly to 1 at ``hard``."""
    if value <= soft:
        return 0.0
    if value >= hard or hard <= soft:
        return 1.0
    return (value - soft) / (hard - soft)


def first_per_code(found: Sequence[Signal]) -> list[Signal]:
    """The first signal of each code: three look-alike links are one fact, not three."""
    seen: dict[str, Signal] = {}
    for signal in found:
        seen.setdefault(signal.code, signal)
    return list(seen.values())


def read_more(ctx: Context, queries: Sequence[Query]) -> None:
    """Have the facts answer ``queries`` (among ``ctx.deferred``, or keys only what the
    event read names, which no plan can) from here on: read now, during ``detect``, at the
    event's time and with the effects of the batch's earlier events, as if the event had
    read them with the rest (on a shared store, in its claim). What the facts answer
    already (read with the rest on a shared store, or planned by another detector) is not
    read again."""
    more = ctx.more
    if more is not None:
        more(queries)


T = TypeVar("T")


def once(ctx: Context, key: str, make: Callable[..., T], *args: Any) -> T:
    """``make(*args)`` the first time an event asks for ``key``, its stored value after: what
    a detector derives from an event (a plan, a decoded cluster) is needed by ``reads``,
    ``detect`` and ``writes`` alike. A value of None is kept too (no plan is an answer).
    The arguments are passed, not closed over: a lambda made at every ask cost ~1 % of
    the engine's instructions."""
    scratch = ctx.scratch
    if key in scratch:
        return scratch[key]
    value = scratch[key] = make(*args)
    return value


P = TypeVar("P")


class Planning(Generic[P]):
    """A detector whose ``reads``, ``detect`` and ``writes`` each start from the event's plan
    (``_make_plan``, kept in ``Context.scratch`` under the detector's name, as ``once``
    keeps a value): ``_plan`` is the memo's look-up itself. A ``_plan`` that called
    ``once`` ran two Python frames at each ask, ~3 asks an event in each of five
    detectors (``calls40``)."""

    name: str

    def _make_plan(self, ctx: Context) -> P:
        raise NotImplementedError

    def _plan(self, ctx: Context) -> P:
        """The event's plan, made at the first ask (a plan of None is kept too)."""
        scratch, name = ctx.scratch, self.name
        if name in scratch:
            return scratch[name]
        plan = scratch[name] = self._make_plan(ctx)
        return plan


def shared(ctx: Context, key: Hashable, make: Callable[..., T], *args: Any) -> T:
    """``make(*args)`` the first time an event asks for ``key``, the value made then after:
    what a detector plans from a few of an event's fields (its queries from the sender and
    recipients, a link's hosts; never from state, as ``reads``) is made once for the
    events with the same ones. Half the messages of the mixed load repeat an earlier
    one's sender and recipients within 500 events; sharing the query objects also has
    their hashes, which they cache, computed once as the engine deduplicates the reads
    and the state answers them.

    ``key`` names everything the value depends on (the detector, the event's fields it
    reads; settings are the detector's own, fixed while it runs), and no user changes
    the value: the events share it, whichever batch they come in, so the memo
    (``Context.plans``) outlives a batch: the server's group commit hands the engine
    batches of 1 to 8 events, which shared nearly nothing when each had a memo of its own
    (``Engine._plan_batch`` keeps one for ``PLANS_KEPT`` events, in batches of any size).
    O(1) a lookup; the memo holds one entry per distinct key."""
    plans = ctx.plans
    if key in plans:
        return plans[key]
    value = plans[key] = make(*args)
    return value


def _ties_of(sender: str, recipients: tuple[str, ...]
             ) -> tuple[tuple[Contains, Contains], tuple[Contains, ...]]:
    return accounts.ties(sender, recipients), accounts.listed_back(sender, recipients)


def shared_ties(ctx: Context, message: Message
                ) -> tuple[tuple[Contains, Contains], tuple[Contains, ...]]:
    """``accounts.ties`` and ``accounts.listed_back`` of the message's sender and
    recipients, made once a batch for each (``shared``): the same queries for every
    detector that asks them."""
    return shared(ctx, ("ties", message.sender, ctx.to), _ties_of, message.sender, ctx.to)


def ties_for(ctx: Context, message: Message, people: tuple[str, ...]
             ) -> tuple[tuple[Contains, Contains], tuple[Contains, ...]]:
    """``accounts.ties`` and ``accounts.listed_back`` of the sender and ``people`` (the
    message's distinct recipients, capped by a detector's own setting): the event's
    ``shared_ties`` themselves where they ask of exactly ``people`` (every message to at
    most ``MAX_TIES`` people within the cap), else made for ``people``. Why: takeover's
    and velocity's plans are made for nearly every message of real traffic (their memo is
    by sender and recipients, which a platform's batch seldom repeats), and each made
    these queries again, ~6,600 instructions (``takeover43``)."""
    ties, back = shared_ties(ctx, message)
    if ties[0].members != people:
        ties = accounts.ties(message.sender, people, len(people))
        back = accounts.listed_back(message.sender, people)
    return ties, back
