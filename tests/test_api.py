"""The HTTP contract against a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import T0, TOKEN, Server, start_server


def msg(id: str, text: str = "hi", **extra: object) -> dict[str, object]:
    return {"type": "message", "id": id, "ts": T0, "sender": "alice", "recipients": ["bob"],
            "text": text, **extra}


def test_auth_is_required_on_v1(server: Server) -> None:
    for token in (None, "wrong"):
        with server.client(token) as client:
            for method, path in (("POST", "/v1/check"), ("POST", "/v1/events"),
                                 ("GET", "/v1/accounts/alice")):
                answer = client.request(method, path, json=msg("m1"))
                assert answer.status_code == 401
                assert answer.json()["error"]["code"] == "unauthorized"
    with server.client() as client:  # nothing was stored by the refused requests
        assert client.post("/v1/check", json=msg("m1")).json()["action"] == "deliver"
    with server.client(None) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_check_events_accounts_metrics(server: Server) -> None:
    with server.client() as client:
        verdict = client.post("/v1/check", json=msg("m1")).json()
        assert verdict["id"] == "m1" and verdict["action"] == "deliver"
        assert set(verdict) == {"id", "action", "score", "signals", "campaign",
                                "account_action", "notice"}
        batch = {"events": [
            {"type": "login", "id": "l1", "ts": T0, "account": "alice", "session": "s",
             "ip": "192.0.2.7", "client": {"id": "web"}, "success": True},
            {"type": "contacts", "id": "c1", "ts": T0, "account": "alice", "contacts": ["bob"]},
            {"type": "contacts_read", "id": "cr1", "ts": T0, "account": "alice", "count": 1},
            msg("m2"),
            {"type": "report", "id": "r1", "ts": T0 + 9, "reporter": "bob",
             "message_id": "m2", "label": "ham"},
        ]}
        results = client.post("/v1/events", json=batch).json()["results"]
        assert [r.get("status", r.get("action")) for r in results] == [
            "accepted", "accepted", "accepted", "deliver", "accepted"]
        account = client.get("/v1/accounts/alice").json()
        assert account["account"] == "alice" and account["risk"] == "normal"
        metrics = client.get("/metrics").text
        assert 'spimguard_verdicts_total{action="deliver"} 2.0' in metrics
        assert 'spimguard_request_seconds_bucket{endpoint="check"' in metrics
        spec = client.get("/openapi.json").json()
        assert "/v1/check" in spec["paths"] and "Message" in spec["components"]["schemas"]
        assert "<h1>spimguard API" in client.get("/docs").text


def test_errors_are_json_and_change_nothing(server: Server) -> None:
    with server.client() as client:
        cases = [
            (b"{nope", 400, "malformed_json"),
            (msgspec.json.encode({"type": "message", "id": "e1", "ts": T0}), 422,
             "invalid_event"),
            (msgspec.json.encode(msg("e2", "x" * 70_000)), 413, "too_large"),
        ]
        for body, status, code in cases:
            answer = client.post("/v1/check", content=body)
            assert answer.status_code == status, answer.text
            assert answer.json()["error"]["code"] == code
        unknown = client.post("/v1/events", json={"events": [msg("e3"), {"type": "poke",
                                                                       "id": "p", "ts": 1}]})
        assert unknown.status_code == 422
        assert unknown.json()["error"]["field"] == "events[1].type"
        # The valid first event of the refused batch was not stored: it is judged afresh.
        assert client.post("/v1/check", json=msg("e3", "different")).json()["id"] == "e3"
        assert client.get("/nowhere").json()["error"]["code"] == "not_found"
        assert client.get("/v1/check").status_code == 405
        huge = client.post("/v1/events", content=b"[" + b" " * (17 * 1024 * 1024) + b"]")
        assert huge.status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "login", "contacts", "contacts_read", "report", "x"]),
     "id": st.text(max_size=8) | st.integers()},
    optional={"ts": json_values, "sender": json_values, "recipients": json_values,
              "text": json_values, "account": json_values, "contacts": json_values,
              "label": json_values, "count": json_values, "client": json_values,
              "message_id": json_values, "reporter": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(st.binary(max_size=64), json_values.map(msgspec.json.encode),
                      event_like.map(msgspec.json.encode)))
def test_generated_bad_input_never_5xx(server_once: Server, body: bytes) -> None:
    with server_once.client() as client:
        for path in ("/v1/check", "/v1/events"):
            answer = client.post(path, content=body)
            assert answer.status_code < 500, answer.text
            payload = answer.json()
            if answer.status_code >= 400:
                assert set(payload["error"]) == {"code", "message", "field"}


# -- issue 13: the attacker's seat -----------------------------------------------------------
def test_malformed_input_is_a_4xx_naming_the_field_without_a_traceback(server: Server) -> None:
    deep = b"[" * 1000 + b"]" * 1000
    one = msgspec.json.encode(msg("d1"))
    cases = [
        ("/v1/check", one[:-1] + b',"junk":' + deep + b"}", 400, "junk[0][0]"),
        ("/v1/events", b'{"events":[' + one[:-1] + b',"junk":' + deep + b"}]}", 400,
         "events[0].junk"),
        ("/v1/check", one.replace(f'"ts":{T0}'.encode(), b'"ts":1' + b"0" * 400), 422, "ts"),
        ("/v1/check", msgspec.json.encode({k: v for k, v in msg("d2").items() if k != "text"}),
         422, "text"),
        ("/v1/events", msgspec.json.encode({"events": [msg("d3", ts=time.time() + 86_400)]}),
         422, "events[0].ts"),
    ]
    with server.client() as client:
        for path, body, status, field in cases:
            answer = client.post(path, content=body)
            assert answer.status_code == status, answer.text
            assert answer.json()["error"]["field"] == field
        # A year-287,000 message was refused: the clock and the account are untouched.
        assert client.get("/v1/accounts/alice").json()["recent"] == []
    assert "Traceback" not in server.log.read_text()


def test_data_dir_and_files_are_private(server: Server) -> None:
    with server.client() as client:
        assert client.post("/v1/check", json=msg("p1")).status_code == 200
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    files = [f for f in server.data_dir.iterdir() if f.is_file()]
    assert any(f.name == "spimguard.db" for f in files)
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
        f.name: 0o600 for f in files}


def test_slow_clients_are_cut_off(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", extra_env={
        "SPIMGUARD_HEADER_TIMEOUT": "1", "SPIMGUARD__LIMITS__BODY_TIMEOUT": "1"})
    try:
        host, port = running.url.removeprefix("http://").split(":")
        # Half-open connections: a few bytes of a request head, then nothing.
        idle = [socket.create_connection((host, int(port))) for _ in range(50)]
        for sock in idle:
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n")
            sock.settimeout(5)
        started = time.monotonic()
        assert all(sock.recv(1) == b"" for sock in idle)  # closed by the server
        assert time.monotonic() - started < 4
        # A body that trickles: 408 once the body deadline passes.
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                         b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n{")
            sock.settimeout(5)
            assert sock.recv(100).startswith(b"HTTP/1.1 408")
        for sock in idle:
            sock.close()
        # A kept-alive connection's wait for its next head runs from its last answer, not
        # from when it connected (the deadline's timer outlives the request that began it).
        with socket.create_connection((host, int(port))) as sock:
            time.sleep(0.6)
            sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            answered = time.monotonic()
            while sock.recv(4096):  # the rest of the answer, then the server's close
                pass
            assert 0.8 < time.monotonic() - answered < 3
        with running.client() as client:  # and the server still answers
            assert client.post("/v1/check", json=msg("s1")).status_code == 200
    finally:
        running.stop()


def test_an_unusable_data_dir_is_a_one_line_start_up_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    done = subprocess.run([sys.executable, "-m", "spimguard", "serve", "--data-dir",
                           str(blocker / "data"), "--port", "1"], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "SPIMGUARD_API_TOKEN": TOKEN})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spimguard: cannot start:"), done.stderr
