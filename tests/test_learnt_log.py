"""Learners catching up from the log of learnt changes (``Engine._refresh_learners``).

Two nodes on one Redis take a random stream of messages, spam and ham reports and operator
decisions, each event on either node. Each node then holds, after catching up message by
message from the log, the learnt state a full rebuild from Redis gives, bit for bit, and
the same as the other node: the same log gives the same verdicts on any node."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, established, event, message
from spimguard import open_engine, trust
from spimguard.engine import Engine

PITCHES = ("Hot new ringtones! Download now at https://tonez-shop.biz/get?id={i} only $1, "
           "text WIN to 8787 code {i}",
           "Cheap pills online, no prescription needed, order at https://pill-deals.biz/{i} "
           "today and save {i}0 percent",
           "You won a free cruise! Claim your prize at https://prize-claims.biz/c{i} before "
           "midnight, ref {i}")
READERS = ("ana", "ben", "cy", "dee", "eli", "fay")


def learnt_state(engine: Engine) -> tuple[Any, ...]:
    """Everything the content and waves learners hold, as comparable values."""
    learners = {d.name: d for d in engine.detectors}
    online, index = learners["content"].online, learners["waves"].index  # type: ignore[attr-defined]
    arrays = hashlib.sha256(b"".join(a.tobytes() for a in (
        online.delta_, online.support_, online.clipped_, online.imported_))).hexdigest()
    entries = {key: (e.values.tobytes(), sorted(e.shares.items()), e.at, e.operator)
               for key, e in index.entries.items()}
    bands = {band: sorted(keys) for band, keys in index._bands.items() if keys}
    held = {key: (at, label, buckets) for key, (at, label, buckets)
            in learners["content"]._remembered.held.items()}  # type: ignore[attr-defined]
    return arrays, held, entries, bands


def rebuilds(engine: Engine) -> list[str]:
    """A list that grows by a learner's name at each of its rebuilds from now on."""
    seen: list[str] = []
    for detector in engine.detectors:
        if detector.name in ("content", "waves"):
            def counted(read: Any, rebuild: Any = detector.rebuild,  # type: ignore[attr-defined]
                        name: str = detector.name) -> None:
                seen.append(name)
                rebuild(read)
            detector.rebuild = counted  # type: ignore[attr-defined]
    return seen


def play(a: Engine, b: Engine, seed: int, steps: int) -> None:
    """A random stream of sends, reports and operator decisions, each on a random node."""
    rng = random.Random(seed)
    sent: list[tuple[str, tuple[str, ...]]] = []
    ts = T0 + 1_000
    for step in range(steps):
        ts += rng.randint(1, 30)
        node = rng.choice((a, b))
        kind = rng.random()
        if kind < 0.3 or not sent:
            to = tuple(rng.sample(READERS, rng.randint(1, 3)))
            text = rng.choice(PITCHES).format(i=rng.randint(0, 40))
            node.process(message(node.config, f"m{step}", f"bot{rng.randint(0, 4)}", list(to),
                                 text, ts))
            sent.append((f"m{step}", to))
        elif kind < 0.9:
            message_id, to = rng.choice(sent)
            node.process(event(node.config, type="report", id=f"r{step}", ts=ts,
                               reporter=rng.choice(to), message_id=message_id,
                               label="spam" if rng.random() < 0.75 else "ham"))
        else:
            trust.decide(node, rng.choice(sent)[0], rng.choice(("spam", "ham")), ts=ts)


def caught_up(engine: Engine, name: str) -> tuple[Any, ...]:
    """The node's learnt state after judging one more message (it catches up first)."""
    engine.process(message(engine.config, f"look-{name}", "zed", ["yan"], "see you at 7",
                           engine.clock + 1))
    return learnt_state(engine)


@pytest.mark.parametrize(("seed", "caps"), [(1, {}), (2, {}), (3, {}),
                                           (4, {"waves": 4, "content": 6}),
                                           (5, {"waves": 3, "content": 4})])
def test_two_nodes_catching_up_hold_what_a_full_rebuild_holds(
        redis_url: str, redis_namespace: str, tmp_path: Path, seed: int,
        caps: dict[str, int]) -> None:
    cfg = config(storage={"backend": "redis", "redis_url": redis_url,
                          "redis_namespace": redis_namespace},
                 records={"evidence_key": "test-evidence-key"},
                 detectors={name: {"max_remembered": cap} for name, cap in caps.items()})
    a, b = open_engine(cfg, tmp_path / "a"), open_engine(cfg, tmp_path / "b")
    try:
        established(a, *READERS[:3])
        established(b, *READERS[3:])
        seen_a, seen_b = rebuilds(a), rebuilds(b)
        play(a, b, seed, 120)
        states = []
        for engine, name in ((a, "a"), (b, "b")):
            incremental = caught_up(engine, name)
            engine._rebuild_learners()
            assert learnt_state(engine) == incremental, f"node {name} diverged from a rebuild"
            states.append(incremental)
        assert states[0] == states[1], "the two nodes hold different learnt states"
        assert states[0][1] and states[0][2], "the stream taught the learners nothing"
        if not caps:  # the one rebuild each is the check's own, above
            assert seen_a == seen_b == ["content", "waves"], "rebuilt while catching up"
    finally:
        a.close()
        b.close()


def test_two_nodes_appending_at_once_both_land_in_the_log(redis_url: str,
                                                           redis_namespace: str) -> None:
    """Each node's learnt changes, written at the same moment as the other's, are all in the
    log, each once, each node's in its own order, and the count is their number."""
    import threading

    from spimguard.detectors.base import LEARNT, learnt
    from spimguard.state.ops import Since
    from spimguard.state.redis import RedisState

    nodes = [RedisState(redis_url, redis_namespace) for _ in range(2)]
    start = threading.Barrier(2)

    def write(node: int) -> None:
        start.wait()
        for k in range(300):
            nodes[node].write([learnt("content", (f"n{node}-{k}",))], T0)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    count, entries = nodes[0].read([Since(LEARNT, 0)], T0)[0]
    assert count == 600 and len(entries) == 600
    for node in range(2):
        assert [e for e in entries if e.startswith(f"content:n{node}-")] == [
            f"content:n{node}-{k}" for k in range(300)]
    assert nodes[1].read([Since(LEARNT, 600 - 1_024)], T0)[0] == (600, None)


def _two_nodes(redis_url: str, redis_namespace: str, tmp_path: Path) -> tuple[Engine, Engine]:
    cfg = config(storage={"backend": "redis", "redis_url": redis_url,
                          "redis_namespace": redis_namespace},
                 records={"evidence_key": "test-evidence-key"})
    return open_engine(cfg, tmp_path / "a"), open_engine(cfg, tmp_path / "b")


def _contended_once(engine: Engine) -> list[str]:
    """Make the engine's next claimed write fail with ``Contention`` once, as when another
    node wrote what the event read; returns the ids it failed."""
    from spimguard.errors import Contention

    claims = engine._claims
    assert claims is not None
    write = claims.write_claimed
    failed: list[str] = []

    def contended(event_id: str, *args: Any) -> None:
        if not failed:
            failed.append(event_id)
            raise Contention(f"state read for event {event_id} changed before its write")
        write(event_id, *args)

    claims.write_claimed = contended  # type: ignore[method-assign]
    return failed


def test_a_message_retried_after_contention_rebuilds_no_learner(
        redis_url: str, redis_namespace: str, tmp_path: Path) -> None:
    """Contention is what two nodes writing the keys of one event at once make: a spammer
    whose messages to one victim are split over two nodes makes it at will. A message's
    retry learnt nothing in memory, and should cost its reads again, not a rebuild of
    every remembered message (review: each retried message rebuilt both learners)."""
    a, b = _two_nodes(redis_url, redis_namespace, tmp_path)
    try:
        established(a, *READERS[:3])
        play(a, b, 7, 60)  # something remembered to rebuild
        caught_up(a, "a")
        seen = rebuilds(a)
        failed = _contended_once(a)
        a.process(message(a.config, "contended", "bot1", ["ana"], PITCHES[0].format(i=1),
                          a.clock + 1))
        assert failed == ["contended"]
        assert seen == [], "a retried message rebuilt the learners"
    finally:
        a.close()
        b.close()


def test_a_report_retried_after_contention_holds_what_state_holds(
        redis_url: str, redis_namespace: str, tmp_path: Path) -> None:
    """A report whose learning was not applied (contention) leaves no trace of it in the
    node's learners: the retry, applied, gives the state a rebuild gives."""
    a, b = _two_nodes(redis_url, redis_namespace, tmp_path)
    try:
        established(a, *READERS[:3])
        a.process(message(a.config, "pitch", "bot1", ["ana", "ben"],
                          PITCHES[1].format(i=3), T0 + 1_000))
        failed = _contended_once(a)
        a.process(event(a.config, type="report", id="rep", ts=T0 + 1_010, reporter="ana",
                        message_id="pitch", label="spam"))
        assert failed == ["rep"]
        incremental = caught_up(a, "a")
        a._rebuild_learners()
        assert learnt_state(a) == incremental
        assert incremental[1], "the report taught nothing"
    finally:
        a.close()
        b.close()


def test_a_node_whose_redis_lost_the_log_rebuilds(
        redis_url: str, redis_namespace: str, tmp_path: Path) -> None:
    """A Redis restarted empty (or flushed) loses the log and what it named: its count
    starts again below what a node last saw. Such a node should rebuild from state, as any
    node started then does, not keep what state no longer holds (review: the count going
    back read as "nothing new", and node A judged with the lost reports' words until its
    next maintenance while a node started after the loss judged without them)."""
    import redis

    a, b = _two_nodes(redis_url, redis_namespace, tmp_path)
    try:
        established(a, *READERS[:3])
        play(a, b, 3, 80)
        client = redis.Redis.from_url(redis_url)
        client.delete(*client.scan_iter(match=redis_namespace + "*"))  # restarted empty
        established(b, "kim")
        after = caught_up(a, "a")
        a._rebuild_learners()
        assert learnt_state(a) == after, "node A kept learning its Redis no longer holds"
    finally:
        a.close()
        b.close()


def test_an_operators_change_rebuilds_its_node_once(tmp_path: Path) -> None:
    """An operator's change of learnt state (a list, an import: ``write_state``) rebuilds
    the learners, here at once and elsewhere from its log entry; this node's next event
    should not rebuild them again for its own entry (review: it rebuilt twice, each
    rebuild reading every remembered message)."""
    from spimguard.state.ops import Put

    engine = open_engine(config(), tmp_path)
    try:
        established(engine, *READERS[:3])
        seen = rebuilds(engine)
        engine.write_state([Put("review:operator", 1, 86_400.0)])
        assert seen == ["content", "waves"]
        engine.process(message(engine.config, "after", "ana", ["ben"], "see you at 7",
                               engine.clock + 1))
        assert seen == ["content", "waves"], "the operator's change was rebuilt twice"
    finally:
        engine.close()


def test_messages_remembered_before_their_time_was_kept_leave_as_the_index_drops_them(
        tmp_path: Path) -> None:
    """A reported message stored by the earlier release has no time (``Reported.at``: 0.0)
    where the index of them keeps its real one. Past the cap (2: old 'b' at 10, old 'a' at
    20, then 'c' at 30) the node that learns should drop what the index drops, 'b' (review:
    it dropped (0.0, 'a'), holding b and c where a rebuild holds a and c)."""
    from spimguard.detectors.content import _INDEX, _report_key
    from spimguard.model.online import Reported
    from spimguard.state.ops import FOREVER, Members, Put, Touch

    engine = open_engine(config(detectors={"content": {"max_remembered": 2}}), tmp_path)
    try:
        content = next(d for d in engine.detectors if d.name == "content")
        for key, at in (("b", T0 + 10), ("a", T0 + 20)):  # stored by the earlier release
            engine.state.write([Put(_report_key(key), Reported([1, 2, 3], 1.0), FOREVER),
                                Touch(_INDEX, (key,), FOREVER, 2)], at)
        engine._rebuild_learners()
        later = Reported([4, 5, 6], 1.0, T0 + 30)  # a report this release learns
        engine.state.write([Put(_report_key("c"), later, FOREVER),
                            Touch(_INDEX, ("c",), FOREVER, 2)], T0 + 30)
        content._remembered.hold("c", later)  # type: ignore[attr-defined]
        content._remembered.fold()  # type: ignore[attr-defined]
        index = engine.state.read([Members(_INDEX)], T0 + 31)[0]
        assert sorted(content._remembered.held) == sorted(index)  # type: ignore[attr-defined]
    finally:
        engine.close()
