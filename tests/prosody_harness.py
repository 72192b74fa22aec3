"""A real Prosody for tests and benchmarks: installed from Debian if missing, started
on 127.0.0.1 with fresh data, stopped after.

Accounts and rosters are written as Prosody's own data files before it starts
(internal storage, plaintext passwords), so a test has friends with mutual
subscriptions at once. Offline storage is off (a message must not outlive the run)
unless a test asks for it (``offline``: messages to a user who is not online wait).

Optionally a group chat service (``muc``: its domain; rooms open at once) and
server-to-server links: Prosody's resolver has no hosts file, so servers that talk
to each other are named by loopback addresses (``127.0.0.61``) and listen on the
standard s2s port 5269 of their own address (and their group chat service's, whose
domain is then an address too), with dialback and no TLS.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "spim.test"
PASSWORD = "pw-" + "x" * 8
MODULE_DIR = Path(__file__).resolve().parents[1] / "integrations" / "prosody"


def ensure_installed() -> str:
    """The prosody binary, installing Debian's package when it is missing (as root)."""
    found = shutil.which("prosody")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("prosody is not installed: apt-get install prosody (needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "prosody"]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        subprocess.run(command, env=env, capture_output=True, check=True)
    return shutil.which("prosody") or "/usr/bin/prosody"


def _encoded(part: str) -> str:
    """Prosody's datamanager file names: every non-alphanumeric byte as %xx, lower case."""
    return "".join(c if c.isalnum() else f"%{ord(c):02x}" for c in part)


def _lua(value: object) -> str:
    if isinstance(value, dict):
        items = "".join(f"[{_lua(k)}] = {_lua(v)};\n" for k, v in value.items())
        return "{\n" + items + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def write_users(data: Path, rosters: dict[str, list[str]], host: str = HOST) -> None:
    """Accounts (``user`` -> its contacts, local parts or JIDs), every subscription mutual."""
    host_dir = data / _encoded(host)
    (host_dir / "accounts").mkdir(parents=True, exist_ok=True)
    (host_dir / "roster").mkdir(parents=True, exist_ok=True)
    for user, contacts in rosters.items():
        (host_dir / "accounts" / f"{_encoded(user)}.dat").write_text(
            f"return {_lua({'password': PASSWORD})};\n")
        roster: dict[object, object] = {False: {"version": 1, "pending": {}}}
        for contact in contacts:
            contact_jid = contact if "@" in contact else f"{contact}@{host}"
            roster[contact_jid] = {"subscription": "both", "groups": {}}
        (host_dir / "roster" / f"{_encoded(user)}.dat").write_text(f"return {_lua(roster)};\n")


def config_lua(data: Path, port: int, spimguard: dict[str, object] | None, host: str = HOST,
               muc: str | None = None, s2s: bool = False, offline: bool = False) -> str:
    modules = ["roster", "saslauth", "disco", "ping", "blocklist", "presence", "message", "iq",
               *(["dialback"] if s2s else []), *(["spimguard"] if spimguard else [])]
    disabled = [*([] if offline else ["offline"]), "tls", "posix", *([] if s2s else ["s2s"])]
    lines = [
        "daemonize = false", "run_as_root = true", f'pidfile = "{data}/prosody.pid"',
        f'data_path = "{data}"', f'plugin_paths = {{ "{MODULE_DIR}" }}',
        f"modules_enabled = {{ {', '.join(_lua(m) for m in modules)} }}",
        f"modules_disabled = {{ {', '.join(_lua(m) for m in disabled)} }}",
        f"c2s_ports = {{ {port} }}", 'c2s_interfaces = { "127.0.0.1" }',
        *(['s2s_ports = { 5269 }',
           f"s2s_interfaces = {{ {', '.join(_lua(h) for h in (host, muc) if h)} }}",
           "s2s_require_encryption = false", "s2s_secure_auth = false"]
          if s2s else ["s2s_ports = { }"]),
        "component_ports = { }", "http_ports = { }", "https_ports = { }",
        "c2s_require_encryption = false", "allow_unencrypted_plain_auth = true",
        'authentication = "internal_plain"', 'storage = "internal"',
        f'log = {{ {{ levels = {{ min = "info" }}, to = "file", '
        f'filename = "{data}/prosody.log" }} }}',
        "limits = { }",
        f'VirtualHost "{host}"',
    ]
    lines += [f"    spimguard_{k} = {_lua(v)}" for k, v in (spimguard or {}).items()]
    if muc:
        lines += [f'Component "{muc}" "muc"', "    muc_room_locking = false",
                  '    restrict_room_creation = false']
    return "\n".join(lines) + "\n"


@dataclass
class Prosody:
    port: int
    data: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> str:
        path = self.data / "prosody.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:  # it has been seen to hang instead of exiting
                self.process.kill()
                self.process.wait(10)


def start(data: Path, port: int, rosters: dict[str, list[str]],
          spimguard: dict[str, object] | None = None, host: str = HOST, muc: str | None = None,
          s2s: bool = False, offline: bool = False) -> Prosody:
    binary = ensure_installed()
    data.mkdir(parents=True, exist_ok=True)
    write_users(data, rosters, host)
    config = data / "prosody.cfg.lua"
    config.write_text(config_lua(data, port, spimguard, host, muc, s2s, offline))
    with (data / "stdout.log").open("ab") as sink:
        process = subprocess.Popen([binary, "-F", "--config", str(config)], stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Prosody(port, data, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prosody exited: {server.log[-3000:]}"
                               f"{(data / 'stdout.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"prosody did not listen on {port}: {server.log[-3000:]}")


def jid(user: str, host: str = HOST) -> str:
    return f"{user}@{host}"
