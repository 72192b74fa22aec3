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


def _decoded_again(event: object) -> str:
    """The digest as first written: the encoding decoded, the later fields at their
    default deleted, encoded again (what ``once.digest`` must still give)."""
    import hashlib

    import msgspec

    from spimguard.events import Message
    fields = msgspec.json.decode(msgspec.json.encode(event, enc_hook=float))
    if type(event) is Message:
        for name, default in (("encrypted", False), ("size", 0)):
            if fields[name] == default:
                del fields[name]
    return hashlib.sha256(msgspec.json.encode(fields)).hexdigest()


def test_digests_cut_the_later_fields_as_decoding_did() -> None:
    """The later fields at their default are cut off the encoding's end: the digest is the
    one the decode and encode round gave, whatever the text escapes and however many of
    them are at their default."""
    from spimguard.events import Attachment, Client, Invite, Login, Message
    from spimguard.once import digest

    odd = 'quote " back \\ tab \t nl \n nul \x00 é 𝄞 ,"size":0} ,"encrypted":false'
    events = [
        Message(id="m", ts=T0, sender="a", recipients=["b", "c"], text=odd),
        Message(id="m", ts=T0 + 0.125, sender="a", recipients=["b"], text="",
                encrypted=True, size=0),
        Message(id="m", ts=T0, sender="a", recipients=["b"], text="", encrypted=True,
                size=4096),
        Message(id="m", ts=T0, sender="a", recipients=["b"], text="x", size=7,
                client=Client("app", "10.0.0.1"),
                attachments=[Attachment("a.pdf", "application/pdf", "", 0)]),
        Invite(id="i", ts=T0, sender="a", recipients=["b"]),
        Login(id="l", ts=T0, account="a", session="s"),
    ]
    for event in events:
        assert digest(event) == _decoded_again(event), event


def test_a_later_field_anywhere_but_last_is_refused() -> None:
    """``digest`` cuts the later fields off the encoding's end: a kind whose later field
    is not among its last fails at its first digest rather than hashing the wrong bytes."""
    import msgspec
    import pytest

    from spimguard.once import digest

    class Misplaced(msgspec.Struct, frozen=True, tag_field="type", tag="message"):
        id: str
        size: int = 0
        text: str = ""

    with pytest.raises(TypeError, match="must come last"):
        digest(Misplaced(id="m"))  # type: ignore[arg-type]
