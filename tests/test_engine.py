from __future__ import annotations

import gc
import random
from pathlib import Path

import msgspec
import pytest

from conftest import T0, config, event, message
from spimguard import engine as engine_module
from spimguard import open_engine
from spimguard.detectors.takeover import record as takeover_record
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.events import Accepted, Verdict
from spimguard.state.ops import MAX_LATENESS, Get


def mixed_log(cfg, seed: int = 7) -> list:  # type: ignore[no-untyped-def]
    """A small network: friends chatting, a bot fanning out, contacts and reports."""
    rng = random.Random(seed)
    events = [event(cfg, type="contacts", id="c-a", ts=T0, account="alice",
                    contacts=["bob", "carol"])]
    ts = T0
    for i in range(300):
        ts += rng.uniform(0.5, 5)
        if rng.random() < 0.3:
            events.append(message(cfg, f"bot{i}", "bot", [f"user{rng.randrange(500)}"],
                                  f"cheap tones {rng.randrange(99)} at tones dot com", ts,
                                  session="b1"))
        else:
            events.append(message(cfg, f"f{i}", "alice", [rng.choice(["bob", "carol"])],
                                  f"see you at {rng.randrange(12)}", ts, session="phone"))
    events.append(event(cfg, type="report", id="r1", ts=ts + 1, reporter="user1",
                        message_id="bot0", label="spam"))
    events.append(event(cfg, type="login", id="l1", ts=ts + 2, account="alice", session="p2",
                        ip="192.0.2.1", client={"id": "web"}))
    return events


def run(engine: Engine, events: list) -> list[bytes]:  # type: ignore[type-arg]
    return [msgspec.json.encode(r) for r in engine.process_batch(events)]


def test_replay_is_deterministic_and_backends_agree(tmp_path: Path) -> None:
    cfg = config()
    log = mixed_log(cfg)
    first = run(open_engine(cfg), log)
    second = run(open_engine(cfg), log)
    on_sqlite = run(open_engine(config(storage={"backend": "sqlite"}), tmp_path), log)
    assert first == second == on_sqlite
    actions = {msgspec.json.decode(r).get("action") for r in first}
    assert {"deliver", "hold", "block"} <= actions  # the log exercises several outcomes


def test_shared_redis_state_gives_the_same_verdicts(tmp_path: Path, redis_url: str,
                                                   redis_namespace: str) -> None:
    cfg = config()
    log = mixed_log(cfg)
    on_memory = run(open_engine(cfg), log)
    shared = config(storage={"backend": "redis", "redis_url": redis_url,
                             "redis_namespace": redis_namespace},
                    records={"evidence_key": "test-evidence-key"})
    assert run(open_engine(shared, tmp_path), log) == on_memory


def test_repeated_id_returns_stored_answer_and_counts_nothing() -> None:
    e = open_engine(config())
    cfg = e.config
    first = e.process(message(cfg, "m1", "a", ["b"], "hello", T0))
    again = e.process(message(cfg, "m1", "a", ["b"], "hello", T0))
    assert again == first
    for _ in range(20):  # 20 retries of one event must not look like 20 messages
        e.process(message(cfg, "m2", "a", ["s1", "s2", "s3"], "hello", T0 + 10))
    verdict = e.process(message(cfg, "m3", "a", ["b"], "hello", T0 + 11))
    assert not any(s.code == "VELOCITY_RATE" for s in verdict.signals)
    login = event(cfg, type="login", id="l", ts=T0, account="a")
    assert e.process(login) == e.process(login) == Accepted(id="l")


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_reused_id_with_another_body_is_a_conflict(backend: str, tmp_path: Path) -> None:
    e = open_engine(config(storage={"backend": backend}), tmp_path)
    cfg = e.config
    e.process(event(cfg, type="login", id="x1", ts=T0, account="a"))
    e.process(message(cfg, "m1", "a", ["b"], "hello", T0))
    reuses = [message(cfg, "x1", "a", ["b"], "hello", T0),  # a login's id, for a message
              message(cfg, "m1", "a", ["b"], "buy tones", T0),  # another text
              event(cfg, type="report", id="m1", ts=T0, reporter="b", message_id="m1",
                    label="spam")]  # a report under the message's id
    for reuse in reuses:
        with pytest.raises(BadInput) as caught:
            e.process_batch([message(cfg, "fresh", "a", ["b"], "hi", T0 + 1), reuse])
        assert (caught.value.status, caught.value.field) == (409, "id")
    assert e.records.answers(["fresh"]) == {}, "a refused batch keeps nothing"
    # The same body is the same event, whatever the spelling of its time.
    same = event(cfg, type="message", id="m1", ts="2026-09-21T14:13:20Z", sender="a",
                 recipients=["b"], text="hello")
    assert same.ts == T0
    assert e.process(same).id == "m1"
    with pytest.raises(BadInput):  # two bodies under one id inside one batch
        e.process_batch([message(cfg, "m5", "a", ["b"], "x", T0), message(cfg, "m5", "a", ["b"],
                                                                          "y", T0)])


def test_report_is_kept_with_the_reported_sender() -> None:
    e = open_engine(config())
    cfg = e.config
    e.process(message(cfg, "m1", "spammer", ["b"], "buy", T0))
    e.process(event(cfg, type="report", id="r1", ts=T0 + 60, reporter="b", message_id="m1",
                    label="spam"))
    reports = e.records.reports("m1")
    assert [(r.reporter, r.sender, r.label) for r in reports] == [("b", "spammer", "spam")]


def test_verdict_log_keeps_hash_not_text_by_default() -> None:
    e = open_engine(config())
    e.process(message(e.config, "m1", "a", ["b"], "secret words", T0))
    entry = e.records.message("m1")
    assert entry is not None and entry.text is None and len(entry.text_sha256) == 64
    kept = open_engine(config(records={"keep_text": True}))
    kept.process(message(kept.config, "m1", "a", ["b"], "secret words", T0))
    assert kept.records.message("m1").text == "secret words"  # type: ignore[union-attr]


def test_verdict_explains_itself() -> None:
    e = open_engine(config(detectors={"rules": {"deny_phrases": ["buy tones"]}}))
    verdict = e.process(message(e.config, "m1", "a", ["b"], "BUY T0NES now", T0))
    assert isinstance(verdict, Verdict) and verdict.action == "hold"
    assert verdict.signals[0].detail == "contains the phrase 'buy tones'"
    assert verdict.notice.recipient and "a" in verdict.notice.recipient


@pytest.mark.detector_failure_expected
def test_a_failing_detector_is_left_out_and_logged(caplog) -> None:  # type: ignore[no-untyped-def]
    e = open_engine(config(detectors={"rules": {"deny_phrases": ["buy tones"]}}))
    broken = next(d for d in e.detectors if d.name == "velocity")

    def explode(*args: object) -> None:
        raise RuntimeError("bug")

    broken.detect = explode  # type: ignore[method-assign]
    verdict = e.process(message(e.config, "m1", "a", ["b"], "buy tones now", T0))
    assert verdict.action in ("hold", "block")  # the other detectors still decided
    assert "detector velocity failed" in caplog.text


@pytest.mark.detector_failure_expected
def test_what_a_batch_leaves_to_its_end_survives_a_detector_failing_after_it(
        caplog) -> None:  # type: ignore[no-untyped-def]
    """The takeover record a batch puts at its end (``Finishing``) holds its events' changes
    even when the detector fails on the account's last event (that event's own are left
    out, as any failing detector's), and a detector failing to finish is logged, not the
    batch's end."""
    found = []
    for failing in (False, True):
        e = open_engine(config())
        cfg = e.config
        takeover = next(d for d in e.detectors if d.name == "takeover")
        detect = takeover.detect

        def second_fails(ctx, facts, detect=detect):  # type: ignore[no-untyped-def]
            if ctx.event.id == "m2":
                raise RuntimeError("bug")
            return detect(ctx, facts)

        takeover.detect = second_fails  # type: ignore[method-assign]
        e.process_batch([message(cfg, "m1", "a", ["b"], "hello", T0,
                                 client={"id": "im-android", "ip": "198.51.100.20"})]
                        + [message(cfg, "m2", "a", ["b"], "hello again", T0 + 60,
                                   client={"id": "im-android", "ip": "192.0.2.20"})] * failing)
        found.append(e.read_state([Get(takeover_record.key("a"))])[0])
        if failing:
            def broken(batch):  # type: ignore[no-untyped-def]
                raise RuntimeError("bug")

            takeover.finish = broken  # type: ignore[method-assign]
            e.process(message(cfg, "m4", "a", ["b"], "bye", T0 + 120))
            assert e.records.answers(["m4"])  # committed all the same
    assert found[0] is not None and found[0] == found[1]
    assert "detector takeover failed finishing a batch" in caplog.text


def test_a_maintenance_pass_in_a_batch_commits_what_its_events_left_to_the_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A maintenance pass commits the embedded store in the midst of a batch: the takeover
    records its judged events changed go with it, as each event's own put went before."""
    def chat(cfg, n):  # type: ignore[no-untyped-def]
        return [message(cfg, f"m{i}", "a", ["b"], f"hello {i}", T0 + i,
                        client={"id": "im-android", "ip": "198.51.100.20"}) for i in range(n)]

    alone = open_engine(config())
    alone.process_batch(chat(alone.config, 2))
    expected = alone.read_state([Get(takeover_record.key("a"))])[0]
    e = open_engine(config())
    seen = []
    monkeypatch.setattr(engine_module, "MAINTAIN_EVERY", 2)
    monkeypatch.setattr(engine_module, "maintain", lambda *args: seen.append(
        e.read_state([Get(takeover_record.key("a"))])[0]))
    e.process_batch(chat(e.config, 3))
    assert expected is not None and seen == [expected]


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    e = open_engine(config(storage={"backend": "sqlite"}), tmp_path)
    cfg = e.config
    first = message(cfg, "m1", "a", ["b"], "hello", T0)
    original = e.records.save

    def fail_on_second(entry):  # type: ignore[no-untyped-def]
        if entry.id == "m2":
            raise RuntimeError("disk on fire")
        original(entry)

    e.records.save = fail_on_second  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        e.process_batch([first, message(cfg, "m2", "a", ["b"], "hello", T0 + 1)])
    e.records.save = original  # type: ignore[method-assign]
    e.process(message(cfg, "m3", "x", ["y"], "unrelated", T0 + 2))  # commits whatever is left
    assert e.records.answers(["m1"]) == {}  # the failed batch's first event was not kept


def test_the_collector_waits_for_the_batch_and_runs_after_it() -> None:
    """Held off while a batch is judged, back on after it (a failed one too), and never
    turned on for a host that had turned it off."""
    e = open_engine(config())
    cfg = e.config
    seen: list[bool] = []
    velocity = next(d for d in e.detectors if d.name == "velocity")
    detect = velocity.detect

    def spy(*args: object) -> object:
        seen.append(gc.isenabled())
        return detect(*args)  # type: ignore[arg-type]

    velocity.detect = spy  # type: ignore[method-assign]
    assert gc.isenabled()
    e.process(message(cfg, "m1", "a", ["b"], "hello", T0))
    assert seen == [False] and gc.isenabled()
    original = e.records.save

    def fail(entry):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    e.records.save = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        e.process(message(cfg, "m2", "a", ["b"], "hello", T0 + 1))
    assert gc.isenabled()
    e.records.save = original  # type: ignore[method-assign]
    gc.disable()
    try:
        e.process(message(cfg, "m3", "a", ["b"], "hello", T0 + 2))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_batch_loads_its_state_in_one_statement_per_table(tmp_path: Path) -> None:
    """The embedded SQLite loads every key a batch reads before its first event (the batch's
    plan), one ``IN (...)`` statement per table, not one per table per event, the records
    the engine's own writes add to (a recipient's correspondents) among them; and the
    verdicts are those of events judged one at a time."""
    cfg = config(storage={"backend": "sqlite"})
    log = mixed_log(cfg)[:120]
    one_by_one = open_engine(cfg, tmp_path / "one")
    alone = [msgspec.json.encode(one_by_one.process(e)) for e in log]
    batched = open_engine(cfg, tmp_path / "batch")
    loads: list[str] = []
    batched.state._conn.set_trace_callback(loads.append)  # type: ignore[attr-defined]
    assert run(batched, log) == alone
    for table in ("kv", "counts", "sided_sets"):
        assert sum(s.startswith("SELECT") and f"FROM {table} WHERE key IN" in s
                   for s in loads) == 1, table


def test_the_records_the_engine_writes_load_with_the_batch(tmp_path: Path) -> None:
    """The records the engine's own writes add to (each recipient's correspondents) load
    with the batch's reads, in its one statement per table, also when no detector reads
    them: not one statement an event as each write finds its record missing."""
    cfg = config(storage={"backend": "sqlite"})
    e = open_engine(cfg, tmp_path)
    e.disabled.update({d.name: "test" for d in e.detectors})
    log = [message(cfg, f"m{i}", f"u{i % 5}", [f"u{(i + 1) % 5}", f"u{(i + 2) % 5}"],
                   "see you at noon", T0 + i) for i in range(20)]
    loads: list[str] = []
    e.state._conn.set_trace_callback(loads.append)  # type: ignore[attr-defined]
    run(e, log)
    assert sum("FROM sided_sets WHERE key IN" in s for s in loads) == 1


def test_a_batch_plans_what_its_events_share_once() -> None:
    """Messages of one sender to the same recipients in one batch read the same query
    objects (planned once for the batch: ``detectors.base.shared``), and each is judged as
    one judged alone would be, after the events before it."""
    cfg = config()
    log = mixed_log(cfg)[:120]
    alone = open_engine(cfg)
    one_by_one = [msgspec.json.encode(alone.process(e)) for e in log]
    batched = open_engine(cfg)
    asked: dict[str, list] = {}  # type: ignore[type-arg]
    judge = batched._judge

    def spy(event, body, planned):  # type: ignore[no-untyped-def]
        asked[event.id] = planned.queries
        return judge(event, body, planned)

    batched._judge = spy  # type: ignore[method-assign]
    assert run(batched, log) == one_by_one
    to_bob = [e.id for e in log if e.id.startswith("f") and e.recipients == ["bob"]]
    first, second = (asked[i] for i in to_bob[:2])
    velocity = [q for q in first if q.key.startswith("vel:")]
    assert velocity and all(any(q is p for p in second) for q in velocity)


def test_batches_of_one_share_plans_until_the_memo_has_planned_its_events(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's batches of one event share what their events plan alike, as one batch
    of 500 does (``shared``: the same query objects), and answer as that batch does; a new
    memo starts once ``PLANS_KEPT`` events have used one, so memory stays bounded."""
    monkeypatch.setattr(engine_module, "PLANS_KEPT", 3)
    cfg = config()
    log = [message(cfg, f"m{i}", "alice", ["bob"], f"see you at {i}", T0 + i,
                   session="phone") for i in range(4)]
    one_batch = run(open_engine(cfg), log)
    judge = open_engine(cfg)
    asked: dict[str, list] = {}  # type: ignore[type-arg]
    judging = judge._judge

    def spy(event, body, planned):  # type: ignore[no-untyped-def]
        asked[event.id] = [q for q in planned.queries if q.key.startswith("vel:")]
        return judging(event, body, planned)

    judge._judge = spy  # type: ignore[method-assign]
    assert [msgspec.json.encode(judge.process(e)) for e in log] == one_batch
    assert asked["m0"] and all(q is p for q, p in zip(asked["m0"], asked["m2"], strict=True))
    assert not any(q is p for q, p in zip(asked["m0"], asked["m3"], strict=True))


def test_the_detectors_roles_follow_the_detectors_and_those_disabled() -> None:
    """The engine finds which detectors are enabled, work in batches or finish them once,
    not at every batch, and again when an operator disables one or a detector is
    replaced (``Engine._roles``)."""
    judge = open_engine(config())
    names = [d.name for d in judge._roles().enabled]
    assert "content" in [d.name for d in judge._roles().batched]
    assert [d.name for d in judge._roles().finishing] == ["takeover"]
    judge.disabled["takeover"] = "operator"
    assert [d.name for d in judge._roles().enabled] == [n for n in names if n != "takeover"]
    assert judge._roles().finishing == []
    del judge.disabled["takeover"]
    at = names.index("takeover")
    judge.detectors[at] = judge.detectors[names.index("content")]
    assert [d.name for d in judge._roles().finishing] == []


def test_a_replaced_detector_plans_with_its_own_settings() -> None:
    """Plans outlive a batch (``PLANS_KEPT``), not the detectors that made them: one
    replaced between batches (another's settings, the same name) plans afresh, as a
    batch's own memo made it do before plans were kept."""
    from spimguard.detectors.velocity import VelocityDetector

    cfg = config()
    judge = open_engine(cfg)
    log = [message(cfg, f"m{i}", "alice", ["bob", "carol", "dave"], f"hello there {i}",
                   T0 + i, session="phone") for i in range(2)]
    judge.process(log[0])
    at = [d.name for d in judge.detectors].index("velocity")
    judge.detectors[at] = VelocityDetector({"max_targets": 1})
    asked: dict[str, list] = {}  # type: ignore[type-arg]
    judging = judge._judge

    def spy(event, body, planned):  # type: ignore[no-untyped-def]
        asked[event.id] = [q for q in planned.queries if q.key == "vel:targets:alice"]
        return judging(event, body, planned)

    judge._judge = spy  # type: ignore[method-assign]
    judge.process(log[1])
    assert [q.members for q in asked["m1"]] == [("bob",)]


def test_a_batch_that_failed_leaves_nothing_kept_behind(tmp_path: Path) -> None:
    """What outlives a batch (the plans, takeover's decoded records and bulk's clusters,
    each by the bytes it was put as) answers as the store holds: a batch that fails at its
    commit, rolled back, changes no later answer, nor what the accounts' records hold."""
    cfg = config(storage={"backend": "sqlite"})
    log = mixed_log(cfg)[:240]

    def boom() -> None:
        raise RuntimeError("the disk is full")

    def answers(failing: bool) -> list[bytes]:
        judge = open_engine(cfg, tmp_path / str(failing))
        out = []
        for at in range(0, len(log), 3):
            if failing and at % 9 == 3:
                commit, judge._commit = judge._commit, boom  # type: ignore[method-assign]
                with pytest.raises(RuntimeError):
                    judge.process_batch(log[at:at + 3])
                judge._commit = commit  # type: ignore[method-assign]
            out += [msgspec.json.encode(r) for r in judge.process_batch(log[at:at + 3])]
        accounts = sorted({getattr(e, "sender", None) or e.account for e in log})
        out += judge.state.read([Get(takeover_record.key(a)) for a in accounts], judge.now())
        judge.close()
        return out

    assert answers(True) == answers(False)


def test_engine_kinds() -> None:
    """The kinds the engine tells apart by ``type(x) is`` (cheaper than a failing
    isinstance on a msgspec class) have no subclass, so the test is isinstance's: in any
    module of the package (a subclass exists only once its module is imported). The
    detectors' too (takeover's account events); never ``Report``, which an operator's
    decision is (``trust.OperatorDecision``)."""
    import importlib
    import pkgutil

    import spimguard
    from spimguard.events import AccountInfo, Challenge, Contacts, ContactsRead, Invite, Login, Room

    for module in pkgutil.walk_packages(spimguard.__path__, "spimguard."):
        if not module.name.endswith("__main__"):  # a program: it runs when imported
            importlib.import_module(module.name)
    for kind in (AccountInfo, Challenge, Contacts, ContactsRead, Invite, Login, Room, Verdict):
        assert not kind.__subclasses__(), kind


@pytest.mark.detector_failure_expected
def test_one_account_whose_record_fails_to_put_loses_only_its_own(
        monkeypatch: pytest.MonkeyPatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """A batch's end puts every account's takeover record (``Finishing``): one that fails
    to encode (a bug the hostile values of one account reach) must not take the others'
    with it, as it took none but its own when each event put its own. Their events are
    answered and committed: what they taught must be in the store."""
    encode = takeover_record._encode

    def fails_for_b(record, now, *rest):  # type: ignore[no-untyped-def]
        if "b-phone" in record.get("s", {}):
            raise RuntimeError("bug")
        return encode(record, now, *rest)

    monkeypatch.setattr(takeover_record, "_encode", fails_for_b)
    e = open_engine(config())
    cfg = e.config
    e.process_batch([message(cfg, "m1", "a", ["c"], "hello", T0, session="a-phone"),
                     message(cfg, "m2", "b", ["c"], "hello", T0 + 1, session="b-phone"),
                     message(cfg, "m3", "z", ["c"], "hello", T0 + 2, session="z-phone")])
    assert e.records.answers(["m1", "m2", "m3"]).keys() == {"m1", "m2", "m3"}
    a, b, z = e.read_state([Get(takeover_record.key(x)) for x in "abz"])
    assert a is not None and z is not None, "the other accounts' records were lost"
    assert b is None
    assert "failed putting the takeover record of b" in caplog.text


def test_a_late_event_after_a_sweep_in_the_midst_of_a_batch_reads_as_one_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A maintenance pass in the midst of a batch puts the takeover records the batch left
    to its end and commits (it swept too, until the sweep went in parts at batches' ends,
    ``Engine._sweep_part``). A late event of the account after it must read the store as
    it left it, as when judged alone (its session
    started anew at its own time: 40 days late, an hour behind the latest, ``MAX_LATENESS``,
    as every event later than that is judged), not the record the sweep dropped (the
    session of a month and more before)."""
    monkeypatch.setattr(engine_module, "MAINTAIN_EVERY", 2)
    judged = T0 + 40 * 86_400.0 - MAX_LATENESS
    found = []
    for grouped in (False, True):
        e = open_engine(config())
        cfg = e.config
        log = [event(cfg, type="contacts_read", id="r1", account="a", session="s",
                     count=50, ts=T0),
               message(cfg, "m2", "b", ["c"], "hello", T0 + 40 * 86_400.0),
               event(cfg, type="contacts_read", id="r3", account="a", session="s",
                     count=50, ts=T0 + 60)]
        for batch in [log] if grouped else [[x] for x in log]:
            e.process_batch(batch)
        stored = e.read_state([Get(takeover_record.key("a"))], judged + 1)[0]
        found.append(takeover_record.Record("a", stored, 2_592_000, 43_200, 86_400.0)
                     .session("s", judged + 1))
    assert found[0] is not None and found[0]["login"] == judged
    assert found[1] == found[0]


def test_a_failed_batch_moves_no_event_onto_the_lateness_horizon(tmp_path: Path) -> None:
    """A batch that fails is rolled back and its events retried: its later events must not
    leave the engine's clock ahead, or an earlier event retried after them is judged as of
    the horizon of a clock no committed event reached (its record's time then differs from
    a run in which the batch never failed)."""
    cfg = config(storage={"backend": "sqlite"})

    def boom() -> None:
        raise RuntimeError("the disk is full")

    def judged_at(failing: bool) -> float:
        judge = open_engine(cfg, tmp_path / str(failing))
        judge.process_batch([message(cfg, "m0", "alice", ["bob"], "see you at noon", ts=T0)])
        ahead = message(cfg, "m1", "alice", ["bob"], "see you at noon", ts=T0 + 3 * MAX_LATENESS)
        if failing:
            commit, judge._commit = judge._commit, boom  # type: ignore[method-assign]
            with pytest.raises(RuntimeError):
                judge.process_batch([ahead])
            judge._commit = commit  # type: ignore[method-assign]
        judge.process_batch([message(cfg, "m2", "alice", ["bob"], "see you at noon", ts=T0 + 60)])
        entry = judge.records.message("m2")
        judge.close()
        assert entry is not None
        return entry.ts

    assert judged_at(True) == judged_at(False) == T0 + 60
