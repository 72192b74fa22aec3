"""The engine: one event in, one answer out, state and records updated once.

For every event: a repeated id returns the stored answer and counts nothing
(``once.py``; another body under the same id is a 409 conflict); otherwise the
text view is computed once, every detector names its reads, the
state backend answers them in one call, detectors emit signals (reading, where the
backend allows, what only some of their branches need as they reach it:
``_read_more``), the policy decides, and then, in one more call, the state takes every
detector's writes and the record store the verdict. Both commit together (one transaction on the
embedded SQLite), before the answer leaves: an acknowledged event is never lost.

Events are processed in the order given; time is each event's own ``ts`` (or, for one
more than ``ops.MAX_LATENESS`` behind the latest, that lateness: ``_on_time``), so
replaying a log gives the verdicts of the live run. A batch's events are planned
before its first is judged (``_plan_batch``): detectors that work in batches
(``Batched``: content scores the batch as one sparse product) prepare them together,
and on the embedded SQLite the keys of all their reads load in one statement per
table; each event still reads, judges and writes in turn, after the events before it.

Many nodes (Redis state, PostgreSQL records) commit in two stores: each event id
is claimed in Redis, its writes apply in one script that checks the claim and
every value it read and rewrites, and its records commit in PostgreSQL per
batch; ``once.py`` tells what a crash between the steps can and cannot do.

What reports teach lives in shared state; every learnt change is logged, naming the
remembered messages it changed, and each event reads the log's count in its first round
trip, so a node reads what another node's report changed before judging anything after
it (``_refresh_learners``).

Around the loop, each in its own module: ``backends`` opens the configured stores
and detectors, ``outbox`` builds what an event leaves in the records,
``notices.for_verdict`` words a verdict, ``account_view`` answers the account
endpoint and ``maintenance`` sweeps, purges and rebuilds learners.
"""

from __future__ import annotations

import functools
import gc
import itertools
import logging
import operator
import random
import threading
import time
from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

import msgspec

from . import accounts, notices, once, rooms, text, trust
from .account_view import account_view
from .backends import build_detectors, evidence_key, open_stores
from .config import Config
from .detectors import Context, Detector, Outcome
from .detectors.base import (
    BATCH_COMMITS,
    LEARNT,
    READS_ANY,
    READS_NONE,
    SEALED,
    WRITES_ANY,
    WRITES_NONE,
    Batched,
    Finishing,
    Learner,
    changes,
    learnt,
    learnt_version,
    reads_for,
    shared,
    writes_for,
)
from .errors import Contention, RecordsUnavailable, StateUnavailable
from .events import (
    RECEIVED,
    Accepted,
    AccountAction,
    AccountActionKind,
    AccountInfo,
    Contacts,
    Event,
    EventTime,
    Invite,
    Message,
    Report,
    Result,
    Room,
    Verdict,
)
from .maintenance import (
    MAINTAIN_EVERY,
    SWEEP_EVERY,
    maintain,
    rebuild_learners,
    sweep_part,
)
from .outbox import outbox_of
from .policy import Decision, Policy
from .records import Answer, RecordStore
from .records.sqlite import SQLiteRecords
from .signals import Signal
from .state import Holding, StateBackend
from .state.ops import (
    FOREVER,
    SWEEP_PARTS,
    Append,
    Delete,
    Get,
    Members,
    Put,
    Query,
    Replace,
    Since,
    Touch,
    Write,
    sweep_horizon,
)
from .state.shared import Claiming
from .state.sqlite import SQLiteState

log = logging.getLogger("spimguard.engine")

_CLOCK = "engine:clock"
# The clock's row of an embedded store ``[clock, ahead]``, before any event dated past the
# wall clock's bound is logged: event times are after 1970, so the log's latest time is
# past it; a state whose events are dated before is only never spared the row.
_NOTHING_AHEAD = 0.0
_NOTHING_LOGGED = float("-inf")  # the latest time logged in a batch that logged none
# Tries of one event whose reads other nodes keep changing. Against a node that commits to
# the same entry without pause, each try loses with a probability near 1/2 (its window
# overlaps the other's next commit), so 16 tries fail about once in 65,000 contended events.
_ATTEMPTS = 16
_BACKOFF = 0.001  # seconds: the first retry's pause at most, doubling up to _MAX_PAUSE
_MAX_PAUSE = 0.02
# The learnt count's query, made once: every event reads it (``_own_reads``).
_LEARNT_VERSION = learnt_version()
_NO_CODES: frozenset[str] = frozenset()  # an event's signal codes when none fired
_ID = operator.attrgetter("id")  # a batch's ids, gathered in C
# A signal's code, read in C: what an event's verdict asks of its signals (``_judge``)
# costs no comprehension's function object and frame (~900 instructions each).
_CODE = operator.attrgetter("code")
# Events planned with one memo of what events share (``detectors.base.shared``) before the
# next batch starts a new one: what one batch of 500 (``/v1/events``' size) held, kept
# across the server's batches of 1 to 8. Its values depend on no state, so it changes no
# answer; the bound is on memory (one entry per distinct sender, recipients, link...).
PLANS_KEPT = 500
# Kinds of event (and of result) are told apart by ``type(x) is`` where the kind has no
# subclass (``test_engine_kinds`` keeps them so), and reports by ``_is_report``, not by
# isinstance: a msgspec class has a metaclass of its own, so an isinstance that fails looks
# up and calls its ``__instancecheck__`` (~0.3 µs; one that passes is a type check), and a message
# failed ~7 (a report? contacts? an invitation? ...) on its way through the engine.


class _Roles(NamedTuple):
    """The detectors not disabled, and which of them work in batches (``Batched``) or put
    some writes at a batch's end (``Finishing``): found once, not at every batch
    (``Engine._roles``), with the lists they were found from."""

    detectors: list[Detector]  # ``Engine.detectors`` as it was
    disabled: dict[str, str]  # ``Engine.disabled`` as it was
    enabled: list[Detector]
    batched: list[Detector]
    finishing: list[Detector]
    # The enabled detectors whose ``writes`` can give anything for an event that is not a
    # report, and for a report (``detectors.base.writes_for``): no other is asked.
    writing: list[Detector]
    writing_reports: list[Detector]
    # The same for ``reads`` (``detectors.base.reads_for``).
    reading: list[Detector]
    reading_reports: list[Detector]


class _Planned(msgspec.Struct):
    """One event's context and reads, ready to judge (``Engine._plan``): a struct, made in
    C (a NamedTuple's ``__new__`` is a Python lambda's frame, once an event)."""

    ctx: Context
    own: tuple[Query, ...]  # ``_own_reads``
    active: list[Detector]  # the detectors whose reads did not fail
    queries: list[Query]  # every read, each once


@dataclass
class Engine:
    config: Config
    state: StateBackend
    records: RecordStore
    detectors: list[Detector]
    disabled: dict[str, str] = field(default_factory=dict)  # detector -> why
    evidence_key: bytes = b""  # keys recipient pseudonyms in evidence bundles

    def __post_init__(self) -> None:
        self.policy = Policy(self.config)
        self.lock = threading.RLock()
        # Events judged since the last maintenance pass, as the store kept them with the
        # sweep's last part: a process restarted more often than every ``MAINTAIN_EVERY``
        # events (a crash loop, frequent deploys) began at 0 and never passed.
        self._since_maintenance = self.state.since_pass()
        # Events judged since the last part of the sweep. A process starts owing a part:
        # its predecessor's count died with it, and one restarted more often than every
        # ``SWEEP_EVERY`` events (a crash loop, an attacker's crashing input) never swept.
        self._since_sweep = SWEEP_EVERY - 1
        self.repeats = 0  # events answered from the log: their id was seen before
        # The verdict log when it commits in the state's transactions (the embedded store):
        # then the clock's row is written only where the log's rows do not tell the clock.
        self._log = (self.records if isinstance(self.state, SQLiteState)
                     and isinstance(self.records, SQLiteRecords)
                     and self.records.commits_with(self.state.conn) else None)
        # The latest time logged by the batch, the clock the committed log tells (``_told``),
        # and the latest logged time past the clock it was logged at (``_opened_clock``).
        self._logged = self._told = _NOTHING_LOGGED
        self._ahead = _NOTHING_AHEAD
        # The engine's clock is the latest event time it has seen (kept in state, so it
        # survives a restart): reads made between events, such as an account lookup,
        # see what the event stream would see, also when replaying an old log.
        stored, legacy = self.state.read([Get(_CLOCK), Get(accounts.LEGACY)], 0.0)
        clock = self._opened_clock(stored)
        # The latest time an event may move the clock to (``_bounded``), fixed for a batch
        # as it starts (``_on_time``): a wall clock read twice an event cost ~1 %.
        self._ceiling = time.time() + self.config.limits.max_clock_skew
        self.clock = self._bounded(clock or 0.0)
        self._clock_saved = self.clock
        self._legacy_until = self._legacy(clock, legacy)
        self._claims = self.state if isinstance(self.state, Claiming) else None
        self._holding = self.state if isinstance(self.state, Holding) else None
        self._answered: dict[str, Answer] = {}  # this batch's answers, by event id
        # The memo of the batch being judged (``Context.batch``): what detectors left to its
        # end (``Finishing``) goes into every commit, a maintenance pass's too (``_finish``).
        self._batch: dict[Hashable, Any] | None = None
        # The memo of what events share (``shared``) and how many events it has planned.
        self._plans: dict[Hashable, Any] = {}
        self._plans_for = 0
        self._found_roles: _Roles | None = None
        # Learnt changes logged in shared state: the count at the last look, and this
        # node's own since then; anything else means another node learnt something.
        self._learnt_seen: int | None = None
        self._learnt_own = 0
        self._refresh_learners(self.state.read([_LEARNT_VERSION], self.clock)[0])
        notices.templates(self.config.language)  # a missing language fails at start-up

    # -- public ------------------------------------------------------------------------
    def process(self, event: Event) -> Result:
        """Judge or record one event and commit it."""
        return self.process_batch((event,))[0]

    def process_batch(self, events: Iterable[Event],
                      fresh: list[bool] | None = None) -> list[Result]:
        """Events in order, committed together once all are done, or not at all.

        ``fresh``, when given, receives for each event whether it was new (False: a
        repeated id answered from the log), so counters count an event once."""
        events = list(events)
        ids = list(map(_ID, events))
        with self.lock:
            collecting = _collector_paused()
            self._answered = {}
            clock = self.clock  # a batch rolled back moves it no more than its writes
            try:
                if self._holding is not None:
                    self._holding.begin()
                digests = list(map(once.digest, events))
                known = self.records.answers(ids)
                once.check_batch(events, digests, known)
                events = self._on_time(events)
                results = []
                # Each plan is let go once judged, while its objects are still in the cache
                # (and none is left for the collector to walk: ``_collector_paused``).
                plans = deque(self._plan_batch(events, known))
                for event, digest in zip(events, digests, strict=True):
                    before = self.repeats
                    results.append(self._process(event, digest, known, plans.popleft()))
                    if fresh is not None:
                        fresh.append(self.repeats == before)
                self._finish()
                self._sweep_part()
                self._commit()
            except BaseException:
                # Nothing of a failed request may ride along with the next commit.
                self.state.rollback()
                self.records.rollback()
                if self._claims:
                    self._claims.release(ids)
                # Left ahead, the clock would date the events retried after it as of a
                # horizon no committed event reached (``_on_time``). Shared state commits
                # each event on its own: what it committed moved the clock rightly.
                if not self._claims:
                    self.clock = clock
                self._clock_saved = -1.0
                self._logged = self._told = _NOTHING_LOGGED
                self._learnt_seen = None  # what learners learnt in memory: rebuild first
                self._plans_for = PLANS_KEPT  # planned afresh
                raise
            finally:
                self._batch = None  # the batch's memo is not kept until the next one
                if collecting:
                    gc.enable()
            if self._claims:
                try:
                    self._claims.settle(ids)
                except StateUnavailable as exc:  # the claims expire in an hour anyway
                    log.warning("claims not settled: %s", exc)
            return results

    def health(self) -> dict[str, str]:
        """Per store, "ok" or why it cannot take work now (``/healthz``).

        The SQLite records share the engine's connection, so their probe write waits
        for the running batch (a batch that holds it for long is busy, not broken).
        """
        out: dict[str, str] = {}
        for name, store in (("state", self.state), ("records", self.records)):
            embedded = isinstance(store, SQLiteRecords)
            if embedded and not self.lock.acquire(timeout=2.0):
                out[name] = "ok"
                continue
            try:
                store.ping()
                out[name] = "ok"
            except (StateUnavailable, RecordsUnavailable) as exc:
                out[name] = str(exc)
            finally:
                if embedded:
                    self.lock.release()
        return out

    def now(self) -> float:
        """Event time for reads between events: the clock, or wall time before any event."""
        return self.clock or time.time()

    def account(self, account: str, now: float | None = None) -> dict[str, Any]:
        """What ``GET /v1/accounts/{id}`` shows (``account_view``), at the engine's clock."""
        now = self.now() if now is None else now
        with self.lock:
            return account_view(self._read, self.records, account, now)

    def restore(self, account: str, now: float | None = None) -> bool:
        """Lift every restriction on the account (an operator's decision)."""
        now = self.now() if now is None else now
        with self.lock:
            found = accounts.alive(accounts.decode(self._read([accounts.record(account)], now)[0]),
                                   now)
            self.state.write([accounts.put(account, accounts.restricted(found, None, now, 0.0),
                                           now),
                              *[Delete(k) for k in accounts.legacy_keys(account)]], now)
            self._commit()
            return found.restrict is not None

    def read_state(self, queries: Sequence[Query], now: float | None = None) -> list[Any]:
        """Answer queries at the engine's clock (what adapters know between events), or at
        event time ``now``."""
        with self.lock:
            return self._read(queries, self.now() if now is None else now)

    def remember(self, writes: Sequence[Write]) -> None:
        """Apply and commit state writes at the engine's clock (adapters' own facts)."""
        with self.lock:
            self.state.write(writes, self.now())
            self._commit()

    def write_state(self, writes: Sequence[Write]) -> None:
        """Apply state writes (operator tooling: lists, imported learning), then relearn,
        here and (through the log of learnt changes) on every node sharing the state."""
        with self.lock:
            self.remember([*writes, learnt()])
            # Its entry is this node's own: rebuilt here, not again at the next look.
            self._learnt_own += 1
            self._rebuild_learners()

    def close(self) -> None:
        """The records first: their close ends a console's or the API's read in hand, so
        the state's close, last on the embedded file, copies its WAL into it unhindered
        (``db.Writer.close``)."""
        with self.lock:
            self.records.close()
            self.state.close()

    # -- one event -----------------------------------------------------------------------
    def _bounded(self, ts: float) -> float:
        """``ts``, but never more than ``limits.max_clock_skew`` ahead of the wall clock as
        the batch began (``_ceiling``): no one event (a remote server's say-so) may move the
        engine's clock into the future. Past times pass as they are, so replaying an old log
        stays deterministic."""
        ceiling = self._ceiling
        return ts if ts < ceiling else ceiling

    def _on_time(self, events: list[Event]) -> list[Event]:
        """The batch's events, each dated no earlier than ``sweep_horizon`` of the clock as
        it stands when the event is judged (the clock moves as ``_process`` moves it): an
        older one is judged as of that time. Sweeps keep what an event that late reads, not
        what an older one would; judged as of its own time, its answer would hang on
        whether a sweep ran before it, which differs by batching, process and backend."""
        clock, dated = self.clock, []
        self._ceiling = time.time() + self.config.limits.max_clock_skew
        for event in events:
            floor = sweep_horizon(clock)
            if event.ts < floor:
                # A room's membership keeps the time the server stated it from: a restated
                # room as old is settled, not made new by being judged late (``since``).
                since = ({"since": event.ts if event.since is None else event.since}
                         if type(event) is Room else {})
                event = msgspec.structs.replace(event, ts=EventTime(floor), **since)
            at = self._bounded(event.ts)
            clock = at if at > clock else clock
            dated.append(event)
        return dated

    def _read(self, queries: Sequence[Query], now: float) -> list[Any]:
        """Answers to ``queries`` with the account records of accounts not written since
        the record replaced their keys made from those (``accounts.upgraded``)."""
        answers = self.state.read(queries, now)
        if now < self._legacy_until:
            accounts.upgraded(lambda more: self.state.read(more, now), queries, answers, now,
                              self.config.policy.restriction_ttl)
        return answers

    def _legacy(self, clock: float | None, until: float | None) -> float:
        """Until when (event time) the state may hold an account's keys of before its
        record (``accounts.LEGACY``), noted in the state by the first node to open it.

        A state that has seen no event (no clock) holds none; one that has, at most until
        the last of them expires: at the latest ``FIRST_SEEN_TTL`` (or a longer
        ``restriction_ttl``) after the clock. An account with no record is looked up in
        them (one more read) only until then, so a state begun by this release never is."""
        if until is None:
            until = 0.0 if clock is None else clock + max(
                accounts.FIRST_SEEN_TTL, self.config.policy.restriction_ttl)
            self.state.write([Put(accounts.LEGACY, until, FOREVER)], self.clock)
            self.state.commit()
        return until

    def _process(self, event: Event, body: str, known: dict[str, Answer],
                 planned: _Planned | None) -> Result:
        at = self._bounded(event.ts)
        if at > self.clock:
            self.clock = at
        stored = self._answered.get(event.id) or known.get(event.id)
        if stored is not None:
            self.repeats += 1
            return once.answer(event, stored.result)
        for attempt in range(_ATTEMPTS):
            try:
                return self._judge(event, body, planned)
            except Contention:
                planned = None  # detectors memoise what they read in the context: afresh
                # Another node changed what this event read: nothing of it was applied.
                self._clock_saved = -1.0
                # Two nodes retrying in lockstep can keep invalidating each other; a random,
                # doubling pause lets one finish first (it delays, never changes, a verdict).
                time.sleep(random.uniform(0.0, min(_MAX_PAUSE, _BACKOFF * 2**attempt)))
        raise StateUnavailable(f"event {event.id[:80]!r}: the state it reads kept changing")

    def _roles(self) -> _Roles:
        """The detectors' roles, found again only when the detectors or those disabled
        changed since (an operator's or a test's hand): a class is a runtime Protocol
        (asked of the class: a wrapper's ``__getattr__`` makes no detector one) by
        inspecting its members, and the lists cost a batch of one event ~10 µs. A detector
        replaced leaves the plans of the one before in the memo (``shared``: keyed by its
        name, not its settings): the next batch starts a memo of its own."""
        found = self._found_roles
        if found is None or found.detectors != self.detectors or (
                found.disabled != self.disabled):
            self._plans_for = PLANS_KEPT  # planned afresh
            enabled = [d for d in self.detectors if d.name not in self.disabled]
            found = self._found_roles = _Roles(
                list(self.detectors), dict(self.disabled), enabled,
                [d for d in enabled if issubclass(type(d), Batched)],
                [d for d in enabled if issubclass(type(d), Finishing)],
                [d for d in enabled if writes_for(d) == WRITES_ANY],
                [d for d in enabled if writes_for(d) != WRITES_NONE],
                [d for d in enabled if reads_for(d) == READS_ANY],
                [d for d in enabled if reads_for(d) != READS_NONE])
        return found

    def _plan(self, event: Event, detectors: Sequence[Detector],
              batch: dict[Hashable, Any] | None = None,
              plans: dict[Hashable, Any] | None = None,
              asked: tuple[Sequence[Detector], Sequence[Detector]] | None = None
              ) -> _Planned:
        """The event's context and every query it reads: its own and those of the
        ``detectors`` (the enabled ones, ``_roles``). ``batch``: what the batch's contexts
        keep for its end (``Context.batch``), ``plans``: the memo they share
        (``detectors.base.shared``); a context planned alone has its own. ``asked``: those
        of them whose ``reads`` can name anything for an event that is not a report, and
        for a report (``_Roles.reading``, ``reading_reports``), the only ones asked; not
        given, every one is."""
        batch = {} if batch is None else batch
        plans = {} if plans is None else plans
        reading, reading_reports = (detectors, detectors) if asked is None else asked
        if isinstance(event, Message):
            ctx = Context(event, view=text.SEALED if event.encrypted else text.view(event.text),
                          batch=batch, plans=plans)
            ctx.names, ctx.keep[trust.KEEP] = shared(ctx, ("recipients", ctx.to),
                                                     self._of_recipients, ctx.to)
            if event.encrypted:
                ctx.keep[SEALED] = b"1"
        elif _is_report(type(event)):
            # A Report (``_is_report``: cached per class; mypy narrows through no such call).
            ctx = Context(event, reported=self.records.message(event.message_id),  # type: ignore[union-attr]
                          batch=batch,
                          plans=plans)
            reading = reading_reports
        else:
            ctx = Context(event, batch=batch, plans=plans)

        own = self._own_reads(ctx)
        queries: list[Query] = list(own)
        active = list(detectors)
        # A detector bug must not take the message down with it: a detector that
        # fails is left out of this event (its signals and its writes), and logged.
        for detector in reading:
            try:
                queries.extend(detector.reads(ctx))
            except Exception:
                active.remove(detector)
                log.exception("detector %s failed reading for event %s", detector.name,
                              event.id)
        if self._claims:  # read with the rest, in the claim: answered alike (``_judge``)
            queries.extend(ctx.deferred)
        return _Planned(ctx, own, active, list(dict.fromkeys(queries)))

    def _of_recipients(self, recipients: tuple[str, ...]) -> tuple[tuple[str, ...], bytes]:
        """How a message's recipients appear in a text that greets them (``text.names_of``),
        and what the verdict log keeps of them (``trust.kept_recipients``): once a batch
        for its messages to the same recipients (``shared``)."""
        return text.names_of(recipients), trust.kept_recipients(
            recipients, self.config.trust.max_kept_recipients)

    def _plan_batch(self, events: Sequence[Event], known: dict[str, Answer]
                    ) -> list[_Planned | None]:
        """Plans of the batch's events made before judging the first, so the batch's work
        that depends on no state is done once for all of it: the detectors that work in
        batches (``Batched``) prepare them together, and a state that answers from a copy
        it holds (the embedded SQLite) loads every key the batch reads at once, one
        statement per table instead of one per table per event.

        A plan depends on the event and the detectors' settings alone (never on state, or
        on what a learner learnt), so planning ahead changes no verdict. Reports are
        planned in turn: they look up the reported message, which the batch may log."""
        # Shared state commits each event on its own (its claim): no write waits for the end.
        batch: dict[Hashable, Any]  # the batch's memo (``Context.batch``)
        roles, batch = self._roles(), {} if self._claims else {BATCH_COMMITS: True}
        if self._plans_for >= PLANS_KEPT:
            self._plans, self._plans_for = {}, 0
        self._plans_for += len(events)
        detectors, plans = roles.enabled, self._plans
        asked = roles.reading, roles.reading_reports
        planned = [None if _is_report(type(e)) or e.id in known
                   else self._plan(e, detectors, batch, plans, asked) for e in events]
        ready = [p for p in planned if p is not None]
        self._batch = batch if ready else None  # judged events' memo (``_finish``)
        for detector in roles.batched:
            try:
                # A Batched Detector (``_roles``): mypy has no type of both.
                detector.prepare(  # type: ignore[attr-defined]
                    [p.ctx for p in ready if detector in p.active])
            except Exception:  # each event then computes its own (``Batched``)
                log.exception("detector %s failed preparing a batch", detector.name)
                for p in ready:
                    p.ctx.scratch.pop(detector.name, None)
        if self._holding is not None:
            self._holding.hold([part for p in ready
                                for part in (p.queries, _own_touches(p.ctx), p.ctx.deferred)])
        return planned

    def _finish(self) -> None:
        """The writes detectors left to the batch's end (``Finishing``), before it commits:
        at its end, and before a maintenance pass commits the embedded store in its midst."""
        batch = self._batch
        if batch is None or BATCH_COMMITS not in batch:
            return
        for detector in (self._found_roles or self._roles()).finishing:  # the batch's
            try:  # as an event's writes: a detector's bug is logged, not the batch's end
                left = detector.finish(batch)  # type: ignore[attr-defined]  # Finishing (``_roles``)
            except Exception:
                log.exception("detector %s failed finishing a batch", detector.name)
                continue
            for now, writes in left:
                self.state.write(writes, now)

    def _judge(self, event: Event, body: str, planned: _Planned | None) -> Result:
        if planned is None:
            roles = self._roles()
            planned = self._plan(event, roles.enabled, None, None,
                                 (roles.reading, roles.reading_reports))
        ctx, own, active, unique = planned.ctx, planned.own, planned.active, planned.queries
        if self._claims:
            claim, answers = self._claims.claim_read(event.id, body, unique, event.ts)
            if not claim.mine:
                claim = once.settled(self._claims, event.id, body, claim, event.ts)
                if claim.mine:  # a lease taken over after waiting: read afresh, as holder
                    claim, answers = self._claims.claim_read(event.id, body, unique, event.ts)
            if claim.outbox:  # finished by another node, or by an earlier failed batch
                return self._finished(event, once.unpack(claim.outbox))
        else:
            answers = self.state.read(unique, event.ts)
        facts = dict(zip(unique, answers, strict=True))
        version, seen = facts[own[1]], self._learnt_seen
        if seen is not None and version[0] == seen + self._learnt_own:
            # Nobody else learnt anything (nearly every event): ``_refresh_learners``'
            # count moved on here, without its frame.
            self._learnt_seen, self._learnt_own = version[0], 0
        else:
            self._refresh_learners(version)
        found, upgrade = self._account(event, facts, own[0])
        ctx.account = found
        trusted: list[Write] = []
        if _is_report(type(event)):  # weighed once, before any learner sees the report
            ctx.trust, trusted = trust.weigh(event, ctx.reported, facts,  # type: ignore[arg-type]
                                             self.config.trust)  # a Report (``_is_report``)

        signals: list[Signal] = []
        # Read when asked (``read_more``), if ever: what the plan named and, on any store,
        # what only a first read names (the bulk cluster a band key points to).
        ctx.more = functools.partial(self._read_more, facts, event.ts)
        for detector in list(active):
            try:
                signals.extend(detector.detect(ctx, facts))
            except StateUnavailable:
                raise  # a deferred read's store failed (``_read_more``): the event's failure
            except Exception:
                log.exception("detector %s failed on event %s", detector.name, event.id)
                active.remove(detector)
        ctx.more = None  # read during detection, write after the verdict
        result, decision = self._decide(event, signals, found.restrict, ctx.acting)
        if type(result) is Verdict and ctx.cluster and (ctx.campaign or (
                result.action in ("hold", "block")
                and "BULK_NEAR_DUPLICATE" in map(_CODE, signals))):
            result = msgspec.structs.replace(result, campaign=f"c-{ctx.cluster}")

        outcome = Outcome(
            action=result.action if type(result) is Verdict else "accepted",
            score=decision.score if decision else 0.0,
            account_action=result.account_action.action,
            signals=frozenset(map(_CODE, signals)) if signals else _NO_CODES,
            campaign=getattr(result, "campaign", None) or "")
        writes = self._own_writes(event, result) + trusted
        roles = self._found_roles or self._roles()
        writing = roles.writing if ctx.trust is None else roles.writing_reports
        if len(active) != len(roles.enabled):  # one failed reading or detecting: rare
            writing = [d for d in writing if d in active]
        for detector in writing:
            try:
                writes.extend(detector.writes(ctx, facts, outcome))
            except Exception:
                log.exception("detector %s failed writing for event %s", detector.name,
                              event.id)
        mine = self._own_record(event, found, result)
        if upgrade:  # the record takes what the keys held, and they go
            mine = found if mine is None else mine
            writes += [Delete(k) for k in accounts.legacy_keys(event.account)]
        record = accounts.folded(event.account, mine, found, writes, event.ts)
        if record is not None:
            writes.append(record)
        if self._claims and self.clock != self._clock_saved:
            # Each event commits on its own in shared state: the clock rides with its writes
            # (no extra trip). An embedded store saves it once, with the batch (``_commit``).
            writes.append(Put(_CLOCK, self.clock, FOREVER))
            self._clock_saved = self.clock
        outbox = outbox_of(self.config, event, body, ctx, result, decision)
        learnt_here = _learnt_entries(writes)
        if self._claims:
            try:
                self._claims.write_claimed(event.id, writes, event.ts, once.pack(outbox))
            except Contention:
                # Nothing of the event was applied. Only a learner that changed what it holds
                # in memory (``learnt_here``) holds what state does not: rebuild before the
                # next verdict. Any other event's retry costs its own reads, not a rebuild of
                # every remembered message: contention is what two nodes writing the same
                # keys at once make, which a sender's messages split over nodes can do at will.
                if learnt_here:
                    self._learnt_seen = None
                raise
        else:
            self.state.write(writes, event.ts)
        self._learnt_own += learnt_here
        self._save(outbox)
        self._since_maintenance += 1
        self._since_sweep += 1
        if self._since_maintenance >= MAINTAIN_EVERY:
            # Sweep and purge only up to what the wall clock confirms.
            self._maintain(min(self.clock, time.time()))
        return result

    def _read_more(self, facts: dict[Query, Any], now: float, queries: Sequence[Query]
                   ) -> None:
        """An event's deferred reads (``detectors.base.read_more``) put in its ``facts``:
        what they do not answer yet, read as the event's other reads were, at its time
        ``now``. On an embedded store nothing is written between the event's first read
        and its verdict, so the state read is the one its first read saw, with the batch's
        earlier events' writes (applied as each was judged), and the store answers from
        the copy of the batch's keys it holds (``Holding``: ``Context.deferred`` among
        them; a key first named here is loaded). On a shared store the plan's deferred
        reads came with the claim; a key only a first read names is read in the claim
        (``read_claimed``), and the event's writes apply only if what it saw there is
        unchanged, as for its first read: another node's write between is no lost update."""
        missing = list(itertools.filterfalse(facts.__contains__, queries))  # in C
        if missing:
            read = self._claims.read_claimed if self._claims else self.state.read
            facts.update(zip(missing, read(missing, now), strict=True))

    def _account(self, event: Event, facts: dict[Query, Any], read: Query
                 ) -> tuple[accounts.Account, bool]:
        """The record of the event's account (``read``), live parts only, and whether it
        was made from the keys of before it (``_legacy``): then it is filled in ``facts``
        before any detector looks, and the event writes it and deletes them."""
        stored, upgrade = facts[read], False
        if stored is None and event.ts < self._legacy_until:
            facts[read] = stored = accounts.legacy(
                lambda more: self.state.read(more, event.ts), (event.account,), event.ts,
                self.config.policy.restriction_ttl)[0]
            upgrade = stored is not None
        return accounts.alive(accounts.decode(stored), event.ts), upgrade

    def _finished(self, event: Event, outbox: once.Outbox) -> Result:
        """An event judged already (its claim's outbox): record it here too, answer alike."""
        self.repeats += 1
        self._save(outbox)
        return once.answer(event, outbox.entry.result)

    def _save(self, outbox: once.Outbox) -> None:
        if outbox.campaign is not None:
            self.records.save_campaign_message(outbox.campaign)
        if outbox.report is not None:
            self.records.save_report(outbox.report)
        self.records.save(outbox.entry)
        if outbox.entry.ts > self._logged:
            self._logged = outbox.entry.ts
        self._answered[outbox.entry.id] = Answer(outbox.entry.digest, outbox.entry.result)

    def _own_reads(self, ctx: Context) -> tuple[Query, ...]:
        """The record of the account the event is about (``accounts.Account``: first seen,
        restrictions), the count of learnt changes (in the same round trip, so learning
        reaches every node at once); for a report, then what the report-trust model reads
        (``trust.reads``). The first two are one tuple for the batch's events of one
        account (``shared``)."""
        event = ctx.event
        own = shared(ctx, ("engine", event.account), _account_reads, event.account)
        # A Report where ``_is_report`` says so (a cached test mypy narrows through no more).
        return own + trust.reads(event) if _is_report(type(event)) else own  # type: ignore[arg-type]

    def _decide(self, event: Event, signals: list[Signal], restrict: dict[str, Any] | None,
                acting: str) -> tuple[Result, Decision | None]:
        session = acting or getattr(event, "session", "")
        # Nearly every account has no restriction: no call to find none in it.
        suspension = accounts.session_blocked(restrict, session) if restrict else None
        in_force: AccountActionKind = "none"
        if suspension is not None and isinstance(event, Message):
            signals.append(Signal("SENDING_SUSPENDED", 1.0,
                                  f"sending is suspended since an incident: "
                                  f"{suspension.get('reason', '')}", "hold"))
            in_force = "suspend_sending"
        if not isinstance(event, Message) and not signals:
            return Accepted(id=event.id), None
        decision = self.policy.decide(signals, event.account, session, in_force)
        if not isinstance(event, Message):
            return Accepted(id=event.id, account_action=decision.account_action,
                            score=decision.score, signals=decision.signals), decision
        return Verdict(id=event.id, action=decision.action, score=decision.score,
                       signals=decision.signals, account_action=decision.account_action,
                       notice=notices.for_verdict(self.config, event, decision)), decision

    def _own_record(self, event: Event, found: accounts.Account, result: Result
                    ) -> accounts.Account | None:
        """The account's record (``found``, as read) as the event leaves it: seen, and the
        account action of its verdict in force; None when the event changes neither."""
        first, changed = found.first_seen, found
        if type(event) is AccountInfo and event.created is not None and (
                first is None or event.created < first):  # the IM server knows it longer
            changed = accounts.seen(changed, min(event.created, event.ts), event.ts)
        elif first is None:
            changed = accounts.seen(changed, event.ts, event.ts)
        action: AccountAction = result.account_action
        if action.action != "none" and not accounts.session_blocked(found.restrict,
                                                                    action.session):
            changed = accounts.restricted(
                changed, accounts.acted(found.restrict, action.action, action.session,
                                        action.reason, event.ts),
                event.ts, self.config.policy.restriction_ttl)
        return None if changed is found else changed

    def _own_writes(self, event: Event, result: Result) -> list[Write]:
        """The event's writes of the account's ties (the record's: ``_own_record``)."""
        if type(event) is Contacts:
            return [Replace(accounts.contacts(event.account), tuple(event.contacts),
                            accounts.CONTACTS_TTL)]
        if type(event) is Room:
            return rooms.writes(event)
        if (_teaches_ties(event) and type(result) is Verdict
                and result.action in RECEIVED):
            # Replies make a tie: whoever the sender writes to may write back freely. Only
            # the recipients learn it: what vouches for a sender is what its correspondents
            # did, never its own messages (a bland line to a target first must not make the
            # target vouch for the pitch after it). Only what was delivered: a held
            # message, or an invitation, is no conversation; nor is a note to self, which
            # would make the sender its own correspondent (``_talked``).
            talked = (event.sender,)
            return [Touch(accounts.tie_record(r), talked, accounts.TALKED_TTL,
                          accounts.TALKED_CAP, accounts.TALKED) for r in _talked(event)]
        return []

    def _commit(self) -> None:
        self._save_clock()
        self.state.commit()
        self.records.commit()

    def _refresh_learners(self, version: tuple[int, Any]) -> None:
        """Catch up on what anyone but this node has learnt since the last look: the
        remembered messages the log names since then are read again (``_catch_up``), so
        another node's report costs what it changed, not a rebuild of every remembered
        message (0.24 s of CPU at 2,000 reported messages, growing with them, for each
        throwaway's report). ``version``: the log's count (``learnt_version``), which
        ``_judge`` found past this node's own reckoning (or none was held yet: a rebuild);
        the count that matches it moves on there, without this call."""
        count = version[0]
        if self._learnt_seen is None:
            self._rebuild_learners()
        else:
            count = self._catch_up(self._learnt_seen)
        self._learnt_seen, self._learnt_own = count, 0

    def _catch_up(self, seen: int) -> int:
        """Apply the log's entries after ``seen`` to the learners, or rebuild them when the
        log no longer keeps them all or an entry names no message; returns the count read.

        The entries include this node's own since ``seen``: reading those again holds
        what state holds, as a learner's ``update`` does for any entry, whoever wrote it
        and however often it is read. What expired or left a capped set without a change
        being logged is dropped by the rebuild at the next maintenance, here as on the
        node that made the change."""
        def read(queries: Sequence[Query]) -> list[Any]:
            return self.state.read(queries, self.clock)

        count, entries = read([Since(LEARNT, seen)])[0]
        found = None if entries is None else changes(entries)
        if found is None:
            self._rebuild_learners()
            return int(count)
        learners = {d.name: d for d in self.detectors if isinstance(d, Learner)}
        for name, keys in found.items():
            if name in learners:
                learners[name].update(read, keys)
        return int(count)

    def _rebuild_learners(self) -> None:
        rebuild_learners(self.detectors, self.state, self.clock)

    def _opened_clock(self, stored: Any) -> float | None:
        """The clock as the store left it (None: no event seen), from its row and, in an
        embedded store, the verdict log, which commits in the same transactions.

        Other stores' row is the clock, written by every commit that moves it. An embedded
        store's is ``[clock, ahead]``, written only by commits whose logged rows do not
        tell the clock (``_save_clock``): so the clock is the row's, or the log's latest
        time where that is past ``ahead``. No row of the log is later than the clock it
        was committed with, but an event's dated past the wall clock's bound (``_bounded``),
        which raises ``ahead`` in its commit; and no purge takes a row that tells the clock
        (one dated at it): a purge takes rows dated before the clock (or the wall clock, if
        earlier) less the log's retention (``maintenance.maintain``).

        An embedded store without a pair gets one at once, so that a node of before session
        33 fails at its start (a pair is no time) rather than read a clock the log has
        passed, or none: a new file (``[None, _NOTHING_AHEAD]``), or one of before, whose
        bare time was written at every commit, so exact (``ahead`` at the log's latest).
        """
        if self._log is None:
            return stored
        latest = self._log.latest()
        if not isinstance(stored, list):
            ahead = _NOTHING_AHEAD if stored is None else max(stored, latest or stored)
            stored = [stored, ahead]
            self.state.write([Put(_CLOCK, stored, FOREVER)], 0.0)
            self.state.commit()
        clock, self._ahead = stored
        if latest is not None and latest > self._ahead and (clock is None or latest > clock):
            return latest
        return clock

    def _save_clock(self) -> None:
        """Put the clock's row in the commit, unless the verdict log committed tells the
        clock (``_opened_clock``): a logged time, this commit's or an earlier one's, is the
        clock, past ``ahead``. At batches of one that spares a row and a page of WAL
        nearly every commit; a commit whose clock moved past its log (a repeated event
        dated past the bound when first judged) or whose log is past its clock (an event
        dated past the bound) still writes it.

        The clock is an event's time (``EventTime``, a float's subclass), which the value's
        JSON encoding handed to a hook, a Python call (``ops._plain``), at each batch that
        moved it: put as the float it is, the same bytes without the call (``prep42``)."""
        clock, logged, self._logged = self.clock, self._logged, _NOTHING_LOGGED
        if self._log is not None:
            if logged > clock and logged > self._ahead:
                self._ahead, self._clock_saved = logged, -1.0  # the row must carry it
            if logged == clock:
                self._told = logged
            if self._told == clock > self._ahead:
                return
        if clock != self._clock_saved:
            row = float(clock) if self._log is None else [float(clock), float(self._ahead)]
            self.state.write([Put(_CLOCK, row, FOREVER)], clock)
            self._clock_saved = clock

    def _maintain(self, now: float) -> None:
        self._since_maintenance = 0
        # The batch owes a part, which keeps the count at 0 in its commit: a process
        # restarted before its next part would resume the count from before the pass,
        # and pass again at every start.
        self._since_sweep = max(self._since_sweep, SWEEP_EVERY)
        # The pass commits the embedded store: the clock goes with it, and what the batch's
        # judged events left to its end (put again at the end, with what follows).
        self._finish()
        self._save_clock()
        began = time.perf_counter()
        maintain(self.config, self.state, self.records, self.detectors, now)
        # Its batch waits for it (a few ms, content's rebuild growing with what it
        # remembers): what a slow batch the server logs may have held.
        log.info("maintenance (learners rebuilt, purge) took %.1f ms",
                 (time.perf_counter() - began) * 1000)

    def _sweep_part(self) -> None:
        """The sweep's next parts, at the end of a batch, in its commit: one for each
        ``SWEEP_EVERY`` events judged since the last, at most a lap. The server's batches
        of a few events take one part in 400 events; a batch of thousands takes its
        share, so a lap is ~``MAINTAIN_EVERY`` events however the events are batched (one
        part a batch let batches of 10,000 stretch a lap to 500,000 events: session 20's
        review). Answers do not depend on where parts fall: a sweep drops only what no
        event still judged reads (``sweep_horizon``). Where the lap stands is the
        store's (``StateBackend.sweep_part``): kept across restarts, with the part, as
        is the count since the last maintenance pass, which a restart resumes. A
        batch rolled back takes its part back, and the count it spent stays spent: its
        retry takes no part, the next part redoes that one (a part that kept failing
        would otherwise fail every retry of its batch, not one batch in its events)."""
        if self._since_sweep < SWEEP_EVERY:  # nearly every batch of a few events
            return
        parts = min(self._since_sweep // SWEEP_EVERY, SWEEP_PARTS)
        self._since_sweep %= SWEEP_EVERY
        for _ in range(parts):
            began = time.perf_counter()
            dropped = sweep_part(self.state, min(self.clock, time.time()),
                                 self._since_maintenance)
            log.debug("sweep part dropped %d items in %.1f ms", dropped,
                      (time.perf_counter() - began) * 1000)


def _account_reads(account: str) -> tuple[Query, ...]:
    return accounts.record(account), _LEARNT_VERSION


def _learnt_entries(writes: Sequence[Write]) -> int:
    """How many entries ``writes`` add to the log of learnt changes: a learner changed
    what it holds in memory by as many (``detectors.base.learnt``). Most events append
    nothing: that is told by a search in C (``map(type, ...)``), not a loop in bytecode
    over the event's ~20 writes."""
    if Append not in map(type, writes):
        return 0
    return sum([len(w.entries) for w in writes if w.__class__ is Append and w.key == LEARNT])


def _teaches_ties(event: Event) -> TypeGuard[Message]:
    """Whether a delivered or warned ``event`` makes ties (``Engine._own_writes``): a
    message, not an invitation, to at most ``MAX_TALKED_FANOUT`` recipients."""
    return (isinstance(event, Message) and type(event) is not Invite
            and len(event.recipients) <= accounts.MAX_TALKED_FANOUT)


def _own_touches(ctx: Context) -> tuple[Query, ...]:
    """The records the event's own writes may add to (``Engine._own_writes``: the
    recipients' ties, whatever the verdict), as queries naming their keys. ``_plan_batch``
    holds them with the batch's reads, so an embedded store loads them in its one statement
    per table; otherwise each event's write loaded what it missed, one statement an event
    (with no detector, one message in ten). One tuple for the batch's messages to the same
    recipients (``shared``). Named only for a store that holds (``Holding``): any other
    answers each key as it is asked, and would pay for the queries (3 % of the engine's
    instructions with no detector, memory backend)."""
    if not _teaches_ties(ctx.event):
        return ()
    if ctx.event.sender in ctx.to:  # a note to self, rare: not worth sharing
        return _talked_records(_talked(ctx.event))
    return shared(ctx, ("talked", ctx.to), _talked_records, ctx.to)


def _talked(event: Message) -> tuple[str, ...]:
    """The recipients whose ties a delivered ``event`` touches: all but its sender. A note
    to self is no conversation: touched, it made the sender a correspondent of its own, so
    every reader of ``TALKED`` (heard, footprint, reciprocation) had to leave it out, and
    one that forgot let an account vouch for itself."""
    return tuple(filter(event.sender.__ne__, event.recipients))  # in C: no frame


def _talked_records(recipients: tuple[str, ...]) -> tuple[Query, ...]:
    return tuple([Members(accounts.tie_record(r), accounts.TALKED) for r in recipients])


@functools.cache
def _is_report(kind: type) -> bool:
    """Whether events of the class ``kind`` are reports (``Report`` or an operator's
    decision, ``trust.OperatorDecision``), asked once per class (why: the note on kinds
    at the top of this module)."""
    return issubclass(kind, Report)


def open_engine(config: Config, data_dir: str | Path | None = None) -> Engine:
    """The engine with the configured detectors and stores (``backends``)."""
    detectors, disabled = build_detectors(config)
    folder = Path(data_dir or config.storage.data_dir)
    state, records = open_stores(config, folder)
    return Engine(config, state, records, detectors, disabled,
                  evidence_key=evidence_key(config, folder))


def _collector_paused() -> bool:
    """The cyclic garbage collector held off while a batch is judged, and left to run
    after it (``process_batch`` enables it again when this returns True: it was on).

    A batch allocates a few hundred thousand short-lived objects (contexts, queries,
    signals), which trigger a young collection every 700 allocations, and every tenth
    of those walks the middle generation too: work proportional to what is alive, not
    to the garbage, which the planned batch (kept alive until judged) and the memory
    backend's state keep large. Reference counting frees nearly all of a batch as it
    goes; the few cycles it leaves are found by the first collection after the batch,
    so memory stays bounded by one batch (the group commit's and ``/v1/events``' size
    limits). On the mixed load the collector took 12-30 % of the engine's time
    (``benchmarks/engine.py`` beside the same run with it off). A host that turned the
    collector off keeps it off.

    Each of the batch's plans is let go once judged (``process_batch``): the first
    collection after the batch walks what the batch allocated and left alive, and the
    plans (contexts, queries) kept to the end were most of that: 24 ms of CPU a batch of
    500 on the mixed load, 3 ms without them. A function, not a context manager: its
    generator and the manager's calls cost ~80 bytecodes a batch."""
    was = gc.isenabled()
    gc.disable()
    return was
