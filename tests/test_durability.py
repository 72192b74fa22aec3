"""An acknowledged event survives kill -9 of the server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import T0, config, killed_while_acknowledging, start_server
from spimguard import open_engine


def test_kill_9_keeps_verdicts_and_counters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    sent = []
    try:
        with server.client() as client:
            for i in range(30):
                body = {"type": "message", "id": f"m{i}", "ts": T0 + i, "sender": "bot",
                        "recipients": [f"stranger{i}"], "text": "hey there", "session": "s"}
                sent.append(client.post("/v1/check", json=body).json())
    finally:
        server.kill()
    assert sent[-1]["signals"], "the burst should have raised velocity signals"

    again = start_server(data)
    try:
        with again.client() as client:
            # Stored verdicts come back for repeated events, byte for byte the same decision
            # (a repeated id must carry the same body: another one is a 409 conflict).
            for i in (0, 17, 29):
                body = {"type": "message", "id": f"m{i}", "ts": T0 + i, "sender": "bot",
                        "recipients": [f"stranger{i}"], "text": "hey there", "session": "s"}
                assert client.post("/v1/check", json=body).json() == sent[i]
            # Counters survived: the 31st message continues the burst instead of starting over.
            body = {"type": "message", "id": "m30", "ts": T0 + 30, "sender": "bot",
                    "recipients": ["stranger30"], "text": "hey there", "session": "s"}
            after = client.post("/v1/check", json=body).json()
            strangers = [s for s in after["signals"] if s["code"] == "VELOCITY_STRANGERS"]
            assert strangers and "31 accounts" in strangers[0]["detail"]
            account = client.get("/v1/accounts/bot").json()
            assert len(account["recent"]) >= 10  # the warned burst, from the verdict log
    finally:
        again.stop()



# A server's engine alone, answering a stream of messages in batches of one: it prints
# an id once ``process`` returns, as the server answers once its batch has committed.
# With ``busy`` checkpoints, the thread checkpoints every 2 ms and the writer every 50
# pages, so that the kill often lands in one of them, or in the WAL starting over.
_ACKNOWLEDGING = """
import functools, json, sys
from spimguard import backends, db, decode_event, load_config, open_engine

folder, synchronous, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3])
if sys.argv[4] == "busy":
    backends.open_writer = functools.partial(db.open_writer, wal_bound=50, period=0.002)
cfg = load_config(environ={}, storage={"backend": "sqlite", "synchronous": synchronous})
engine = open_engine(cfg, folder)
for i in range(1_000_000):
    body = {"type": "message", "id": f"m{i}", "ts": t0 + i, "sender": f"bot{i % 7}",
            "recipients": [f"r{i}"], "text": "hey there", "session": "s"}
    engine.process(decode_event(json.dumps(body).encode(), cfg.limits))
    print(f"m{i}", flush=True)
"""


@pytest.mark.parametrize("checkpoints", ["default", "busy"])
@pytest.mark.parametrize("synchronous", ["normal", "full"])
def test_kill_9_between_commits_loses_no_acknowledged_event(tmp_path: Path,
                                                             synchronous: str,
                                                             checkpoints: str) -> None:
    """Killed at an arbitrary moment of a stream of batches of one, the engine has lost
    no event it acknowledged, and what it did not acknowledge is there whole or not at
    all: the log holds a prefix of the stream, and the state's clock is that prefix's
    last event (state and log commit in one transaction). Checkpoints running beside the
    commits (``db.Checkpointer``), or in one, change nothing of that."""
    acknowledged = killed_while_acknowledging(
        [sys.executable, "-c", _ACKNOWLEDGING, str(tmp_path), synchronous, str(T0),
         checkpoints], 100)

    engine = open_engine(config(storage={"backend": "sqlite"}), tmp_path)
    try:
        stream = [f"m{i}" for i in range(len(acknowledged) + 100)]
        logged = engine.records.answers(stream)
        assert all(i in logged for i in acknowledged), "an acknowledged event was lost"
        assert set(stream[:len(logged)]) == set(logged), "the log is not a prefix"
        assert engine.clock == T0 + len(logged) - 1, "state and log part"
    finally:
        engine.close()


def test_storage_synchronous_sets_the_fsyncs(tmp_path: Path) -> None:
    from spimguard.errors import ConfigError

    for name, pragma in (("normal", 1), ("full", 2)):
        engine = open_engine(config(storage={"backend": "sqlite", "synchronous": name}),
                             tmp_path / name)
        conn = engine.state._conn  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == pragma
        # The checkpoints' fsyncs (the WAL's before it is copied) follow the same setting.
        beside = conn.checkpointer._conn
        assert beside.execute("PRAGMA synchronous").fetchone()[0] == pragma
        engine.close()
    with pytest.raises(ConfigError, match=r"storage\.synchronous"):
        config(storage={"backend": "sqlite", "synchronous": "off"})
