"""The HTTP contract against a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import T0, Server


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
