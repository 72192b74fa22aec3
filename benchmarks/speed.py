"""spimguard beside Rspamd in one run, on this machine: the issue-18 table.

    python benchmarks/speed.py [--seconds 8] [--users 2000 --days 2]

Both servers get one core and the same short IM texts (the simulator's mixed
load), over kept-alive HTTP/1.1 from this process on the other core:

- Rspamd (Debian's ``rspamd``), one normal worker, ``/checkv2``, Bayes trained
  on the UCI SMS Spam Collection (../shared/datasets) through its controller,
  Bayes kept in a redis-server this script starts; modules that look anything up
  over the network (DNS lists, SPF/DKIM/DMARC, fuzzy, ASN, redirects) are off,
  as spimguard never fetches anything either. Each text is sent as a minimal
  plain-text mail, which is what Rspamd parses.
- spimguard ``serve`` on the embedded defaults (SQLite), ``/v1/check``: at
  saturation and at 30/50/70 % of it (open loop, latency from when each request
  was due), ``/healthz`` of the same server beside as the floor of the HTTP layer,
  at saturation and offered the same rates; at each level, where the server spent
  a check's time (its ``/metrics``: waiting for a batch, the batch and its CPU).
- the engine in-process (``engine.py``), memory and SQLite.

Ratios are what carry across machines: spimguard ÷ Rspamd (goal ≥ 3), /v1/check
÷ /healthz (goal ≥ 0.30), p99 at 70 % (goal ≤ 10 ms). The server's own CPU time
per request at saturation (from ``/proc``) is printed beside: on a machine shared
with other work, rates and latencies say how much of the core the server got, the
CPU time what each request cost it; and /healthz's rate may be the client's limit
rather than the server's (its CPU time says which).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import msgspec

import engine
from api import SPLIT_ROW, TOKEN, Load, _request, offer, saturate, split, totals
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import DATASETS, Rows, cpu_seconds, free_port, latency, serve, show

# Rspamd modules that look something up over the network for each message (DNS lists,
# SPF/DKIM/DMARC/ARC, ASN, fuzzy storage, URL redirects, MX, DCC), or whose rules are
# lists fetched from rspamd.com (multimap's freemail lists, whitelist, phishing feeds):
# off, as spimguard never fetches anything either. Everything local keeps Debian's
# defaults: the regexp rules, hfilter, the MIME checks, Bayes, and the modules that keep
# their state in Rspamd's Redis.
_OFFLINE = ("rbl", "surbl", "emails", "spf", "dkim", "dmarc", "arc", "asn", "fuzzy_check",
            "url_redirector", "mx_check", "dcc", "phishing", "multimap", "whitelist",
            "rspamd_update")
# Also off: greylisting, a delivery-time deferral keyed on the SMTP envelope, not a
# judgement of the message (an IM server has no retrying MTA); its pre-filter answers
# "soft reject" from Redis without running the rules, which on this load (the same
# pairs of people write again and again) would skip most checks.
_NOT_FOR_IM = ("greylist",)
# Modules that work from a list fetched from rspamd.com with a copy shipped in the package
# as the fallback: the shipped copy only, so nothing is even asked for.
_SHIPPED_MAPS = {"mime_types": 'file = ["${CONFDIR}/maps.d/mime_types.inc"];\n',
                 "mid": 'source { url = ["${CONFDIR}/maps.d/mid.inc"]; }\n'}
# How many of the load's texts are checked once before the clock, to show what Rspamd
# made of them.
_SAMPLE = 300
# Every UCI text is learnt as a mail with its own Message-ID; the checks' ids start here.
_CHECK_IDS = 1_000_000


def _mail(text: str, number: int, sender: str = "sender", recipient: str = "recipient"
          ) -> bytes:
    """One text as a small well-formed mail: the headers any mail client writes, so that
    Rspamd's header rules have nothing to say and what it judges is the text."""
    return (f"From: {sender}@example.org\r\nTo: {recipient}@example.org\r\n"
            "Subject: message\r\n"
            f"Date: Wed, 02 Dec 2026 12:00:00 +0000\r\nMessage-ID: <{number}@example.org>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            ).encode() + text.encode("utf-8", "replace") + b"\r\n"


def _load_mail(message: dict[str, Any], number: int) -> bytes:
    """A message of the load as a mail between the load's own people."""
    return _mail(message["text"], _CHECK_IDS + number, message["sender"],
                 message["recipients"][0])


def _check(body: bytes) -> bytes:
    return (f"POST /checkv2 HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def _configure(folder: Path, worker: int, controller: int, redis_port: int) -> Path:
    """Rspamd's local configuration in ``folder`` (the packaged /etc/rspamd stays as it is):
    one normal worker and the controller on loopback, Bayes and every other module's
    state in the given Redis, no network, errors logged to ``folder/log``."""
    local, override = folder / "local.d", folder / "override.d"
    for made in (local, override, folder / "db", folder / "run", folder / "log"):
        made.mkdir(parents=True)
    (local / "redis.conf").write_text(f'servers = "127.0.0.1:{redis_port}";\n')
    # Port 9 on loopback answers nothing: a lookup that some module still tries fails
    # fast instead of leaving the machine.
    (local / "options.inc").write_text('dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; '
                                       'retransmits = 1; }\n')
    (local / "classifier-bayes.conf").write_text("autolearn = false;\n")
    (local / "logging.inc").write_text('level = "error";\n')
    (override / "worker-normal.inc").write_text(
        f'bind_socket = "127.0.0.1:{worker}"; count = 1;\n')
    (override / "worker-controller.inc").write_text(
        f'bind_socket = "127.0.0.1:{controller}"; count = 1; secure_ip = "127.0.0.1";\n')
    (override / "worker-proxy.inc").write_text("enabled = false;\n")
    for module in (*_OFFLINE, *_NOT_FOR_IM):
        (local / f"{module}.conf").write_text("enabled = false;\n")
    for module, maps in _SHIPPED_MAPS.items():
        (override / f"{module}.conf").write_text(maps)
    return folder


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 300.0
          ) -> None:
    """Until ``url`` answers; Rspamd compiles its regular expressions first (~30 s)."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    said = log.read_text("utf-8", "replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{url} did not answer; Rspamd's log ends:\n{said}")


def _train(controller: int, datasets: Path) -> tuple[int, int]:
    """Bayes learns the UCI texts through the controller, eight at a time; returns how
    many it took and how many there were. Rspamd declines some: texts under its
    11-token minimum, repeats, and those Bayes already classes right with certainty."""
    lines = (datasets / "sms-spam-collection/SMSSpamCollection").read_text(
        "utf-8", "replace").splitlines()

    async def learn() -> int:
        queue = iter(enumerate(lines))
        learnt = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{controller}",
                                     timeout=60) as client:
            async def learner() -> None:
                nonlocal learnt
                for number, line in queue:
                    label, _, text = line.partition("\t")
                    path = "/learnspam" if label == "spam" else "/learnham"
                    answer = await client.post(path, content=_mail(text, number))
                    learnt += answer.status_code == 200
            await asyncio.gather(*(learner() for _ in range(8)))
        return learnt

    return asyncio.run(learn()), len(lines)


def _children(pid: int) -> dict[int, str]:
    """A process's children and their command lines, where ``/proc`` says them."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(child): Path(f"/proc/{child}/cmdline").read_text() for child in found}
    except OSError:
        return {}


def _measure(name: str, port: int, load: Load, seconds: float, pids: tuple[int, ...],
             health: Load | None = None) -> tuple[Rows, float, float | None]:
    """Saturation, then 30/50/70 % of it. Given ``health`` (spimguard), each level adds
    where the server spent a check's time and /healthz offered the same rate: on a
    shared machine, the latency that any request at that rate gets from the client and
    the scheduler alone. Returns the rows, the rate at saturation and the CPU a request
    cost ``pids`` there."""
    before = totals(port) if health else {}
    saturated, lat, cost = _saturate(port, load, seconds, pids)
    rows: Rows = [(f"{name} at saturation, messages/s", f"{saturated:,.0f}"),
                  ("  p50 / p95 / p99 ms", latency(lat))]
    if cost is not None:
        rows.append(("  server CPU per request, ms", f"{cost * 1000:.3f}"))
    if health:
        rows.append((SPLIT_ROW, split(before, totals(port))))
    for share in (0.3, 0.5, 0.7):
        before = totals(port) if health else {}
        achieved, lat = asyncio.run(offer(port, load, share * saturated, seconds))
        goal = " (goal p99 ≤ 10)" if share == 0.7 and health else ""
        rows.append((f"  at {share:.0%} ({achieved:,.0f}/s), p50/p95/p99 ms{goal}",
                     latency(lat)))
        if health:
            rows.append((SPLIT_ROW, split(before, totals(port))))
            _, beside = asyncio.run(offer(port, health, share * saturated, seconds))
            rows.append(("  /healthz offered the same rate, p50/p95/p99 ms", latency(beside)))
    return rows, saturated, cost


def _saturate(port: int, load: Load, seconds: float, pids: tuple[int, ...]
              ) -> tuple[float, list[float], float | None]:
    """Requests/s and latencies at saturation, and the CPU seconds per request that the
    server's processes ``pids`` spent (None where ``/proc`` is not there)."""
    before = [cpu_seconds(pid) for pid in pids]
    began = time.perf_counter()
    rate, lat = asyncio.run(saturate(port, load, seconds, 16))
    elapsed = time.perf_counter() - began
    after = [cpu_seconds(pid) for pid in pids]
    if None in before or None in after or not rate:
        return rate, lat, None
    spent = sum(after) - sum(before)  # type: ignore[arg-type]
    return rate, lat, spent / (rate * elapsed)


def _bayes(worker: int, text: str) -> str:
    """The Bayes symbol Rspamd gives ``text`` (proof that the training took)."""
    symbols = httpx.post(f"http://127.0.0.1:{worker}/checkv2", content=_mail(text, 0),
                         timeout=30).json().get("symbols", {})
    return next((name for name in ("BAYES_SPAM", "BAYES_HAM") if name in symbols), "none")


def _verdicts(worker: int, messages: list[dict[str, Any]]) -> str:
    """What Rspamd made of some of the load's texts, before the clock: on how many Bayes
    ran (Rspamd skips texts under 11 tokens), and its actions."""
    actions: Counter[str] = Counter()
    bayes = 0
    with httpx.Client(timeout=30) as client:
        for number, message in enumerate(messages):
            answer = client.post(f"http://127.0.0.1:{worker}/checkv2", content=_load_mail(
                message, number)).json()
            actions[answer["action"]] += 1
            bayes += any(name.startswith("BAYES_") for name in answer["symbols"])
    return f"{bayes} Bayes; " + ", ".join(f"{name} {n}" for name, n in actions.most_common())


def rspamd(messages: list[dict[str, Any]], datasets: Path, seconds: float, core: int | None
           ) -> tuple[Rows, float, float | None]:
    """Rspamd and its Redis pinned to ``core``, Bayes trained, /checkv2 measured; the
    CPU a check costs counts the normal worker and Redis (where Bayes lives)."""
    binary, redis_server = shutil.which("rspamd"), shutil.which("redis-server")
    if not binary or not redis_server:
        return [("Rspamd", "rspamd or redis-server not installed: skipped")], 0.0, None
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    worker, controller, redis_port = free_port(), free_port(), free_port()
    pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _configure(Path(tmp) / "rspamd", worker, controller, redis_port)
        store = subprocess.Popen([redis_server, "--port", str(redis_port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL, preexec_fn=pin)
        server = subprocess.Popen(
            [binary, "-f", "-i", "-c", "/etc/rspamd/rspamd.conf",
             f"--var=LOCAL_CONFDIR={folder}", f"--var=DBDIR={folder / 'db'}",
             f"--var=RUNDIR={folder / 'run'}", f"--var=LOGDIR={folder / 'log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin)
        try:
            for port in (controller, worker):
                _wait(f"http://127.0.0.1:{port}/ping", server, folder / "log/rspamd.log")
            learnt, offered = _train(controller, datasets)
            verdicts = _verdicts(worker, messages[:_SAMPLE])
            normal = [pid for pid, line in _children(server.pid).items()
                      if "normal process" in line]
            checks = Load([_check(_load_mail(message, n)) for n, message in enumerate(messages)])
            rows, saturated, cost = _measure(f"Rspamd {version} /checkv2", worker, checks,
                                             seconds, (*normal, store.pid) if normal else ())
            return [(f"Rspamd {version}: UCI SMS texts Bayes learnt (of {offered:,})",
                     f"{learnt:,}"),
                    ("  Bayes on a spam / a ham text not in the set", " / ".join((
                        _bayes(worker, "URGENT! You have won a 1 week FREE membership in our "
                               "prize draw, txt CLAIM to 81010 now to receive your cash"),
                        _bayes(worker, "ok see you at home later tonight, i will bring the "
                               "food and we can watch the film after dinner")))),
                    (f"  Rspamd on the load's first {_SAMPLE} texts", verdicts),
                    *rows], saturated, cost
        finally:
            server.terminate()
            server.wait(30)
            store.terminate()
            store.wait(10)


def spimguard(lines: list[bytes], seconds: float, core: int | None
              ) -> tuple[Rows, float, float | None]:
    bodies = [line for line in lines if b'"type":"message"' in line]
    checks = Load([_request("POST", "/v1/check", body) for body in bodies])
    health = Load([_request("GET", "/healthz")])
    with tempfile.TemporaryDirectory() as folder:
        process, url, _ = serve(Path(folder), {
            "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)},
            cpu=core)
        port = int(url.rsplit(":", 1)[1])
        try:
            floor, lat, floor_cost = _saturate(port, health, seconds, (process.pid,))
            rows, saturated, cost = _measure("spimguard /v1/check (SQLite)", port, checks,
                                             seconds, (process.pid,), health)
            rows += [("spimguard /healthz at saturation, requests/s", f"{floor:,.0f}"),
                     ("  p50 / p95 / p99 ms", latency(lat))]
            if floor_cost is not None:
                rows.append(("  server CPU per request, ms", f"{floor_cost * 1000:.3f}"))
            rows.append(("/v1/check ÷ /healthz (goal ≥ 0.30)", f"{saturated / floor:.2f}"))
        finally:
            process.terminate()
            process.wait(10)
    return rows, saturated, cost


def main(seconds: float = 8.0, users: int = 2000, days: int = 2,
         datasets: Path = DATASETS, with_rspamd: bool = True) -> Rows:
    lines = engine.load(users, days)
    messages = [msgspec.json.decode(line) for line in lines if b'"type":"message"' in line]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[0] if len(cores) > 1 else None
    rows: Rows = [("cores: both servers (one after the other) / this client",
                   f"{server_core} / {cores[-1]}" if server_core is not None
                   else "not pinned")]
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[-1]})
    try:
        theirs, rspamd_rate, rspamd_cost = rspamd(messages, datasets, seconds, server_core) if (
            with_rspamd) else ([], 0.0, None)
        ours, our_rate, our_cost = spimguard(lines, seconds, server_core)
    finally:
        if cores:
            os.sched_setaffinity(0, set(cores))
    rows += [*theirs, *ours]
    if rspamd_rate:
        rows.append(("spimguard /v1/check ÷ Rspamd /checkv2, rates (goal ≥ 3)",
                     f"{our_rate / rspamd_rate:.2f}"))
    if rspamd_cost and our_cost:
        rows.append(("  the same by server CPU per request (Rspamd's ÷ ours)",
                     f"{rspamd_cost / our_cost:.2f}"))
    return rows + engine.main(users, days)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--without-rspamd", action="store_true",
                        help="spimguard's figures only (Rspamd takes minutes to start and train)")
    args = parser.parse_args()
    show(main(args.seconds, args.users, args.days, args.datasets, not args.without_rspamd))
