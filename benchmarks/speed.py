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
from pathlib import Path

import httpx
import msgspec

import engine
from api import SPLIT_ROW, TOKEN, Load, _request, offer, saturate, split, totals
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import DATASETS, Rows, cpu_seconds, free_port, latency, serve, show

# Rspamd modules that reach the network (or need maps fetched from it): off.
_OFFLINE = ("rbl", "surbl", "fuzzy_check", "spf", "dkim", "dmarc", "arc", "asn",
            "url_redirector", "phishing", "emails", "dkim_signing", "greylist", "ratelimit",
            "neural", "reputation", "replies", "history_redis", "metadata_exporter",
            "clickhouse", "elastic", "external_services", "antivirus", "fuzzy_collect",
            "mx_check", "maillist", "known_senders")


def _mail(text: str) -> bytes:
    """One text as the smallest mail Rspamd parses as such."""
    return (b"From: sender@example.org\r\nTo: recipient@example.org\r\nSubject: message\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode("utf-8", "replace")
            + b"\r\n")


def _check(text: str) -> bytes:
    body = _mail(text)
    return (f"POST /checkv2 HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def _configure(folder: Path, worker: int, controller: int, redis_port: int) -> Path:
    local = folder / "local.d"
    override = folder / "override.d"
    for made in (local, override, folder / "db", folder / "run", folder / "log"):
        made.mkdir(parents=True)
    (local / "redis.conf").write_text(f'servers = "127.0.0.1:{redis_port}";\n')
    (local / "options.inc").write_text('dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; '
                                       'retransmits = 1; }\n')
    (local / "classifier-bayes.conf").write_text("autolearn = false;\n")
    (local / "logging.inc").write_text('type = "console"; level = "error";\n')
    (override / "worker-normal.inc").write_text(
        f'bind_socket = "127.0.0.1:{worker}"; count = 1;\n')
    (override / "worker-controller.inc").write_text(
        f'bind_socket = "127.0.0.1:{controller}"; count = 1; secure_ip = "127.0.0.1";\n')
    (override / "worker-proxy.inc").write_text("enabled = false;\n")
    for module in _OFFLINE:
        (local / f"{module}.conf").write_text("enabled = false;\n")
    return folder


def _wait(url: str, seconds: float = 300.0) -> None:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _train(controller: int, datasets: Path) -> int:
    """Bayes learns every UCI text through the controller; returns how many it took."""
    learnt = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{controller}", timeout=30) as client:
        for line in (datasets / "sms-spam-collection/SMSSpamCollection").read_text(
                "utf-8", "replace").splitlines():
            label, _, text = line.partition("\t")
            path = "/learnspam" if label == "spam" else "/learnham"
            learnt += client.post(path, content=_mail(text)).status_code == 200
    return learnt


def _measure(name: str, port: int, load: Load, seconds: float, health: Load | None = None,
             pid: int | None = None) -> tuple[Rows, float]:
    """Saturation, then 30/50/70 % of it. Given ``health`` (spimguard), each level adds
    where the server spent a check's time and /healthz offered the same rate: on a
    shared machine, the latency that any request at that rate gets from the client and
    the scheduler alone."""
    before = totals(port) if health else {}
    saturated, lat, cost = _saturate(port, load, seconds, pid)
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
    return rows, saturated


def _saturate(port: int, load: Load, seconds: float, pid: int | None
              ) -> tuple[float, list[float], float | None]:
    """Requests/s and latencies at saturation, and the server's CPU seconds per request
    (None where ``/proc`` is not there)."""
    before = cpu_seconds(pid) if pid else None
    began = time.perf_counter()
    rate, lat = asyncio.run(saturate(port, load, seconds, 16))
    elapsed = time.perf_counter() - began
    after = cpu_seconds(pid) if pid else None
    if before is None or after is None or not rate:
        return rate, lat, None
    return rate, lat, (after - before) / (rate * elapsed)


def rspamd(texts: list[str], datasets: Path, seconds: float, core: int | None) -> tuple[
        Rows, float]:
    binary, redis_server = shutil.which("rspamd"), shutil.which("redis-server")
    if not binary or not redis_server:
        return [("Rspamd", "rspamd or redis-server not installed: skipped")], 0.0
    worker, controller, redis_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        folder = _configure(Path(tmp) / "rspamd", worker, controller, redis_port)
        pin = None if core is None else (lambda: os.sched_setaffinity(0, {core}))
        store = subprocess.Popen([redis_server, "--port", str(redis_port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no"],
                                 stdout=subprocess.DEVNULL)
        server = subprocess.Popen(
            [binary, "-f", "-i", "-c", "/etc/rspamd/rspamd.conf",
             f"--var=LOCAL_CONFDIR={folder}", f"--var=DBDIR={folder / 'db'}",
             f"--var=RUNDIR={folder / 'run'}", f"--var=LOGDIR={folder / 'log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin)
        try:
            _wait(f"http://127.0.0.1:{controller}/ping")
            _wait(f"http://127.0.0.1:{worker}/ping")
            learnt = _train(controller, datasets)
            sample = httpx.post(f"http://127.0.0.1:{worker}/checkv2",
                                content=_mail("WINNER!! claim your free prize now, call "
                                              "09061701461, text WIN to 87121")).json()
            bayes = "BAYES_SPAM" in sample.get("symbols", {})
            rows, saturated = _measure("Rspamd /checkv2", worker,
                                       Load([_check(t) for t in texts]), seconds)
            return [("Rspamd: UCI texts learnt by Bayes", f"{learnt:,}"),
                    ("  a UCI-style spam text scores BAYES_SPAM", "yes" if bayes else "no"),
                    *rows], saturated
        finally:
            server.terminate()
            server.wait(20)
            store.terminate()
            store.wait(10)


def spimguard(lines: list[bytes], seconds: float, core: int | None) -> tuple[Rows, float]:
    bodies = [line for line in lines if b'"type":"message"' in line]
    checks = Load([_request("POST", "/v1/check", body) for body in bodies])
    health = Load([_request("GET", "/healthz")])
    with tempfile.TemporaryDirectory() as folder:
        process, url, _ = serve(Path(folder), {
            "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)},
            cpu=core)
        port = int(url.rsplit(":", 1)[1])
        try:
            floor, lat, floor_cost = _saturate(port, health, seconds, process.pid)
            rows, saturated = _measure("spimguard /v1/check (SQLite)", port, checks, seconds,
                                       health, process.pid)
            rows += [("spimguard /healthz at saturation, requests/s", f"{floor:,.0f}"),
                     ("  p50 / p95 / p99 ms", latency(lat))]
            if floor_cost is not None:
                rows.append(("  server CPU per request, ms", f"{floor_cost * 1000:.3f}"))
            rows.append(("/v1/check ÷ /healthz (goal ≥ 0.30)", f"{saturated / floor:.2f}"))
        finally:
            process.terminate()
            process.wait(10)
    return rows, saturated


def main(seconds: float = 8.0, users: int = 2000, days: int = 2,
         datasets: Path = DATASETS, with_rspamd: bool = True) -> Rows:
    lines = engine.load(users, days)
    texts = [msgspec.json.decode(line)["text"] for line in lines if b'"type":"message"' in line]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[0] if len(cores) > 1 else None
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[-1]})
    try:
        theirs, rspamd_rate = rspamd(texts, datasets, seconds, server_core) if with_rspamd else (
            [], 0.0)
        ours, our_rate = spimguard(lines, seconds, server_core)
    finally:
        if cores:
            os.sched_setaffinity(0, set(cores))
    rows = [*theirs, *ours]
    if rspamd_rate:
        rows.append(("spimguard /v1/check ÷ Rspamd /checkv2 (goal ≥ 3)",
                     f"{our_rate / rspamd_rate:.2f}"))
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
