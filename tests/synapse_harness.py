"""A real Synapse homeserver for tests and benchmarks, started and stopped here.

SQLite, one client listener on 127.0.0.1 (``x_forwarded`` so that a test can
say which address a client comes from), no federation, shared-secret
registration, rate limits raised, and optionally the synapse-http-antispam
module pointed at a spimguard server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SECRET = "synapse-test-shared-secret"
SERVER_NAME = "spim.test"
MEGOLM = "m.megolm.v1.aes-sha2"
CALLBACKS = ["check_event_for_spam", "user_may_invite", "user_may_join_room",
             "check_login_for_spam"]
_FAST = {"per_second": 10_000, "burst_count": 10_000}


def homeserver_yaml(folder: Path, port: int, antispam: dict[str, Any] | None) -> str:
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                       "tls": False, "x_forwarded": True,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(folder / "signing.key"),
        "registration_shared_secret": SECRET,
        "macaroon_secret_key": uuid.uuid4().hex,
        "form_secret": uuid.uuid4().hex,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "bcrypt_rounds": 4,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "rc_message": _FAST,
        "rc_registration": _FAST,
        "rc_login": {"address": _FAST, "account": _FAST, "failed_attempts": _FAST},
        "rc_joins": {"local": _FAST, "remote": _FAST},
        "rc_invites": {"per_room": _FAST, "per_user": _FAST, "per_issuer": _FAST},
        "rc_room_creation": _FAST,
        "rc_presence": {"per_user": _FAST},
        "rc_delayed_event_mgmt": _FAST,
        # What the admin API's server notices come from (spimguard's resend notices).
        "server_notices": {"system_mxid_localpart": "notices",
                           "system_mxid_display_name": "Server Notices",
                           "room_name": "Server Notices"},
        "modules": [{"module": "synapse_http_antispam.HTTPAntispam", "config": antispam}]
        if antispam else [],
    }
    return json.dumps(config, indent=1)  # JSON is YAML


@dataclass
class Synapse:
    url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30.0)

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def register(self, user: str, password: str = "pw-" + "x" * 8, admin: bool = False) -> str:
        nonce = self.http.get("/_synapse/admin/v1/register").json()["nonce"]
        mac = hmac.new(SECRET.encode(), b"\x00".join(
            [nonce.encode(), user.encode(), password.encode(),
             b"admin" if admin else b"notadmin"]), hashlib.sha1)
        answer = self.http.post("/_synapse/admin/v1/register", json={
            "nonce": nonce, "username": user, "password": password, "admin": admin,
            "mac": mac.hexdigest()})
        answer.raise_for_status()
        return f"@{user}:{SERVER_NAME}"

    def login(self, user: str, agent: str, ip: str = "", password: str = "pw-" + "x" * 8,
              device: str | None = None) -> Client:
        headers = {"User-Agent": agent, **({"X-Forwarded-For": ip} if ip else {})}
        body: dict[str, Any] = {"type": "m.login.password", "password": password,
                                "identifier": {"type": "m.id.user", "user": user}}
        if device:
            body["device_id"] = device
        answer = self.http.post("/_matrix/client/v3/login", json=body, headers=headers)
        answer.raise_for_status()
        data = answer.json()
        return Client(self, data["user_id"], data["access_token"], headers)


@dataclass
class Client:
    server: Synapse
    user_id: str
    token: str
    headers: dict[str, str]
    since: str = ""  # the sync position of ``invites``

    def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.server.http.request(method, path, json=body, headers={
            **self.headers, "Authorization": f"Bearer {self.token}"})

    def create_room(self, invite: list[str] | None = None, direct: bool = False,
                    encrypted: bool = False) -> str:
        body: dict[str, Any] = {"preset": "trusted_private_chat" if direct else "private_chat",
                                "invite": invite or [], "is_direct": direct}
        if encrypted:  # end-to-end encrypted from the start, as Element makes DMs
            body["initial_state"] = [{"type": "m.room.encryption", "state_key": "",
                                      "content": {"algorithm": MEGOLM}}]
        answer = self._call("POST", "/_matrix/client/v3/createRoom", body)
        answer.raise_for_status()
        return str(answer.json()["room_id"])

    def join(self, room: str) -> httpx.Response:
        return self._call("POST", f"/_matrix/client/v3/join/{quote(room)}", {})

    def invite(self, room: str, user: str) -> httpx.Response:
        return self._call("POST", f"/_matrix/client/v3/rooms/{quote(room)}/invite",
                          {"user_id": user})

    def invites(self) -> list[str]:
        """The rooms this user was invited to since the last call (an incremental sync:
        Synapse answers a repeated initial sync from a cache for minutes)."""
        since = f"&since={quote(self.since)}" if self.since else ""
        answer = self._call("GET", f"/_matrix/client/v3/sync?timeout=0{since}")
        answer.raise_for_status()
        self.since = answer.json()["next_batch"]
        return list(answer.json().get("rooms", {}).get("invite", {}))

    def texts(self, room: str) -> list[str]:
        """The bodies of the room's latest messages, newest first."""
        answer = self._call("GET", f"/_matrix/client/v3/rooms/{quote(room)}/messages"
                                   "?dir=b&limit=50")
        answer.raise_for_status()
        return [e["content"]["body"] for e in answer.json()["chunk"]
                if e.get("type") == "m.room.message" and "body" in e.get("content", {})]

    def send(self, room: str, text: str, html: str | None = None) -> httpx.Response:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if html:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        return self._call("PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/"
                                 f"m.room.message/{uuid.uuid4().hex}", content)

    def send_encrypted(self, room: str, ciphertext: str) -> httpx.Response:
        """An ``m.room.encrypted`` event as a client's Megolm session sends it: the server
        (and spimguard) see its ciphertext, never the words."""
        content = {"algorithm": MEGOLM, "ciphertext": ciphertext, "device_id": "SEALED",
                   "sender_key": "c2VuZGVyLWtleQ", "session_id": "c2Vzc2lvbi1pZA"}
        return self._call("PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/"
                                 f"m.room.encrypted/{uuid.uuid4().hex}", content)


def start(folder: Path, port: int, antispam: dict[str, Any] | None = None) -> Synapse:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "homeserver.yaml"
    config.write_text(homeserver_yaml(folder, port, antispam))
    log = folder / "synapse.log"
    subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "-c", str(config),
                    "--generate-keys"], check=True, capture_output=True, timeout=120)
    with log.open("ab") as sink:
        process = subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "-c",
                                    str(config)], stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"synapse exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/_matrix/client/versions", timeout=1).status_code == 200:
                return Synapse(url, folder, process, log)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"synapse did not start: {log.read_text()[-3000:]}")


def antispam_config(spimguard_url: str, token: str, fail_open: dict[str, bool]) -> dict[str, Any]:
    """The module block of the README's recipe, pointed at a test server."""
    return {"base_url": f"{spimguard_url}/matrix/antispam", "authorization": token,
            "enabled_callbacks": CALLBACKS, "fail_open": fail_open}
