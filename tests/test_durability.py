"""An acknowledged event survives kill -9 of the server."""

from __future__ import annotations

from pathlib import Path

from conftest import T0, start_server


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
