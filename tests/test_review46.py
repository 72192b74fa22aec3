"""Review of session 46's merge (``console46``): the records' committed view, SQLite's
read-only connection beside the engine's, as a spammer and an operator would find it.

- The engine's close while a console or API read was in progress on the reader: the
  connection was closed under the reading thread's statement, and the process died of a
  segmentation fault (run in a process of its own here, which it kills on main).
- The reader sorted without the writer's ``temp_store=MEMORY``: a campaign's messages,
  texts and all, spilled into a file in /var/tmp, outside the private data folder (and
  failed where that is read-only).
- A file out of WAL mode (an embedding's connection): a read in progress on the reader
  held a lock that failed the engine's commit ("database is locked").
- PostgreSQL's committed view read on the engine's pool: four reads in progress held
  every connection, and the engine's commit failed waiting for one.
- ``features46``: a batch's texts grouped by ``view.text``, as the kept parts were keyed:
  "w i n  a  p r i z e" (spaced out, a cue) reads as "win a prize", and took the plain
  one's parts, without the cue, from a batch's first of them and from the cache.
- ``suite46``'s replays (``test_determinism``): a detector's failure, logged by the
  replay's process, was read only when the process failed, and two replays equally short
  of a broken detector passed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import T0, config
from spimguard.engine import open_engine
from spimguard.errors import RecordsUnavailable
from spimguard.model import features
from spimguard.records import CampaignMessage, LogEntry
from spimguard.records.sqlite import SQLiteRecords
from spimguard.text import view

HELD = LogEntry(id="held-1", ts=T0, type="message", account="mallory", action="hold",
                digest="d", result=b"{}")
LATER = LogEntry(id="held-2", ts=T0 + 1, type="message", account="mallory", action="hold",
                 digest="d", result=b"{}")

# The engine closed (as the server's shutdown does) from another thread while a read is
# held in the middle of its statement, until the close has reached the reader.
_CLOSED_UNDER_A_READ = """
import sys, threading, time
from pathlib import Path
from conftest import T0, config, message
from spimguard.engine import open_engine
from spimguard.model import features
from spimguard.errors import RecordsUnavailable

judge = open_engine(config(storage={"backend": "sqlite"}), Path(sys.argv[1]))
judge.process(message(judge.config, "e0", "alice", ["bob"], "hello", ts=T0))
reader = judge.records.committed()
closer = threading.Thread(target=judge.close)


def closing():
    frame = sys._current_frames().get(closer.ident)
    while frame is not None:
        if frame.f_code.co_name == "close" and frame.f_locals.get("self") is reader:
            return True
        frame = frame.f_back
    return False


def hold():
    if closer.ident is None:
        closer.start()
        waited = time.monotonic() + 60  # a bound on a hang
        while not closing() and time.monotonic() < waited:
            time.sleep(0.001)
        time.sleep(0.1)  # into the close itself
    return 0


reader._conn.set_progress_handler(hold, 1)
try:
    shown = [e.id for e in reader.stopped(0.0)]
except RecordsUnavailable:
    shown = "unavailable"
closer.join()
print("read:", shown)
"""


def test_closing_the_engine_under_a_console_read_does_not_crash_the_process(
        tmp_path: Path) -> None:
    path = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run([sys.executable, "-c", _CLOSED_UNDER_A_READ, str(tmp_path)],
                          env={**os.environ, "PYTHONPATH": path}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    # Cut short by the close, or over before it: either way an answer, not a crash.
    assert done.stdout.strip() in ("read: unavailable", "read: ['e0']"), done.stdout


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_a_campaigns_messages_read_for_the_console_never_go_to_a_temporary_file(
        tmp_path: Path) -> None:
    judge = open_engine(config(storage={"backend": "sqlite"}), tmp_path)
    text = "buy now " + "x" * 2000  # 3,000 of them: 6 MB to sort, past the reader's cache
    for i in range(3000):
        judge.records.save_campaign_message(CampaignMessage(
            "c-big", f"m{i:05d}", T0 + 3000 - i, "mallory", "s", "bot", "203.0.113.9",
            ("bob",), text, "hold"))
    judge.records.commit()
    reader = judge.records.committed()
    opened: set[str] = set()

    def look() -> int:
        """The files the process holds mid-statement: SQLite's temporary ones are named
        ``etilqs_…`` (unlinked at once, but on disk)."""
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if "etilqs" in target:
                opened.add(target)
        return 0

    reader._conn.set_progress_handler(look, 1000)  # type: ignore[attr-defined]
    try:
        assert len(reader.campaign_messages("c-big")) == 3000
    finally:
        reader._conn.set_progress_handler(None, 0)  # type: ignore[attr-defined]
        judge.close()
    assert not opened, f"the campaign's messages were sorted in {opened}"


def test_a_file_out_of_wal_mode_reads_on_the_stores_connection(tmp_path: Path) -> None:
    """An embedding's connection in the rollback journal: a second connection's read in
    progress holds a shared lock, and the commit failed once its busy timeout (0.1 s
    here) ran out; on the store's own connection the commit waits for the read, as it
    did before session 46."""
    store = SQLiteRecords(sqlite3.connect(tmp_path / "records.db", timeout=0.1,
                                          check_same_thread=False))
    store.save(HELD)
    store.commit()
    view = store.committed()
    inside, release = threading.Event(), threading.Event()

    def hold() -> int:
        inside.set()
        release.wait(60)  # a bound on a hang
        return 0

    shown: list[object] = []
    outcome: list[object] = []

    def read() -> None:
        try:
            shown.append([e.id for e in view.stopped(0.0)])
        except RecordsUnavailable as exc:  # the test reports it, not the thread
            shown.append(exc)

    def commit() -> None:
        try:
            store.save(LATER)
            store.commit()
            outcome.append("committed")
        except RecordsUnavailable as exc:
            outcome.append(exc)

    view._conn.set_progress_handler(hold, 1)  # type: ignore[attr-defined]
    reading, committing = threading.Thread(target=read), threading.Thread(target=commit)
    reading.start()
    try:
        assert inside.wait(60), "the read never started"
        committing.start()
        committing.join(1.0)  # main: failed by now; here: waiting for the read
    finally:
        release.set()
        reading.join()
        committing.join()
        view._conn.set_progress_handler(None, 0)  # type: ignore[attr-defined]
    assert outcome == ["committed"], outcome
    assert shown == [[HELD.id]], shown
    assert [e.id for e in view.stopped(0.0)] == [LATER.id, HELD.id]
    store.close()


def test_postgres_reads_in_progress_leave_the_engine_a_connection(postgres_url: str) -> None:
    """Console and API reads holding every connection their pool gives (an evidence
    bundle, a week's queue: each a connection while it reads): the engine's commit still
    gets one. On main they were the engine's pool's, and the commit failed after the
    pool's timeout ("couldn't get a connection"), its batch answered with errors."""
    from psycopg_pool import PoolTimeout

    from spimguard.records.postgres import PostgresRecords

    store = PostgresRecords(postgres_url, pool_size=4, timeout=0.5)
    pool = store.committed()._pool  # type: ignore[attr-defined]
    held = []
    try:
        for _ in range(4):  # the engine's pool's size: as many as any of them holds
            try:
                held.append(pool.getconn(timeout=0.5))
            except PoolTimeout:
                break
        try:
            store.save(HELD)
            store.commit()
        finally:
            for conn in held:
                pool.putconn(conn)
        assert store.committed().message(HELD.id) == HELD
    finally:
        store.close()


SPACED, PLAIN = view("w i n   a   p r i z e   n o w"), view("win a prize now")


def _alone(message: object) -> bytes:
    features._parts_cache.clear()
    return features.batch_parts([(message, ())])[0][0].tobytes()  # type: ignore[list-item]


def test_a_spaced_text_keeps_its_own_features_beside_its_plain_reading() -> None:
    """A text spaced out letter by letter reads as the words (the same ``text``) with a cue
    of its own (``spaced``): in one batch with its plain reading, or after it was hashed
    and kept, each has the parts it has alone (main: the later one took the earlier's)."""
    assert SPACED.text == PLAIN.text and SPACED.spaced and not PLAIN.spaced
    alone = {"spaced": _alone(SPACED), "plain": _alone(PLAIN)}
    assert alone["spaced"] != alone["plain"]
    for first, second in (("plain", "spaced"), ("spaced", "plain")):
        views = {"spaced": SPACED, "plain": PLAIN}
        features._parts_cache.clear()
        together = features.batch_parts([(views[first], ()), (views[second], ())])
        assert [found.tobytes() for found, _ in together] == [alone[first], alone[second]]
        features._parts_cache.clear()
        features.batch_parts([(views[first], ())])  # kept
        later = features.batch_parts([(views[second], ())])[0][0]
        assert later.tobytes() == alone[second], f"{second} after {first} was kept"
    features._parts_cache.clear()


def test_a_replay_that_logs_a_detector_failure_fails(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import test_determinism

    monkeypatch.setattr(test_determinism, "RUN", (
        "import logging\n"
        "logging.getLogger('spimguard.engine').error('detector content failed on event e1')\n"
        "print('0' * 64, 1)\n"))
    replay = test_determinism.start(tmp_path, "0", 500, "memory", "")
    with pytest.raises(pytest.fail.Exception, match="detector content failed"):
        test_determinism.output_of(replay, "memory", "")
