"""Event ids over HTTP (issue 13, finding 5) and /healthz on a store that fails."""

from __future__ import annotations

from pathlib import Path

from conftest import T0, Server, config
from spimguard import open_engine


def test_a_reused_id_is_409_and_the_batch_keeps_nothing(server: Server) -> None:
    login = {"type": "login", "id": "e1", "ts": T0, "account": "alice"}
    msg = {"type": "message", "id": "e1", "ts": T0, "sender": "alice", "recipients": ["bob"],
           "text": "hi"}
    with server.client() as client:
        assert client.post("/v1/events", json={"events": [login]}).status_code == 200
        for _ in range(2):  # the same answer every time, never a 500
            refused = client.post("/v1/events", json={"events": [
                {**msg, "id": "e2"}, msg]})
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["field"] == "id"
        assert client.post("/v1/check", json=msg).status_code == 409
        fresh = client.post("/v1/check", json={**msg, "id": "e2"})
        assert fresh.status_code == 200, "e2 of the refused batch was not kept"
        assert client.post("/v1/check", json={**msg, "id": "e2"}).json() == fresh.json()
        assert client.post("/v1/check", json={**msg, "id": "e2", "text": "other"}
                           ).status_code == 409


def test_health_names_a_store_that_takes_no_writes(tmp_path: Path) -> None:
    engine = open_engine(config(storage={"backend": "sqlite"}), tmp_path)
    assert engine.health() == {"state": "ok", "records": "ok"}
    engine.records._conn.close()  # type: ignore[attr-defined]
    assert engine.health()["records"] != "ok"


def test_fields_added_to_the_contract_leave_stored_digests_unchanged() -> None:
    """An id stored by the release before ``encrypted``/``size`` and retried after the
    upgrade must match (the same answer), not meet a 409: digests computed at 1f273d9."""
    from spimguard.config import Limits
    from spimguard.events import decode_event
    from spimguard.once import digest

    plain = decode_event(b'{"type": "message", "id": "m-1", "ts": "2026-11-29T10:00:00Z", '
                         b'"sender": "alice", "recipients": ["bob"], "text": "lunch at 1?"}',
                         Limits())
    assert digest(plain) == "650e93552ae41167e49031a0943cb35ae691d2cd07597816ec3922547d92960b"
    sealed = decode_event(b'{"type": "message", "id": "m-1", "ts": "2026-11-29T10:00:00Z", '
                          b'"sender": "alice", "recipients": ["bob"], "encrypted": true, '
                          b'"size": 120}', Limits())
    assert digest(sealed) != digest(plain)
