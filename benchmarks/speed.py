"""spimguard beside Rspamd in one run, on this machine: the issue-18 table.

    python benchmarks/speed.py [--seconds 8] [--users 2000 --days 2]
        [--datasets ../shared/datasets] [--without-rspamd]

Both servers run at once, pinned to the same core, and get the same short IM
texts (the simulator's mixed load) over HTTP/1.1 from this process on the other
core; each is measured while the other is idle:

- Rspamd (Debian's ``rspamd``), one normal worker, ``/checkv2``, Bayes trained
  on the UCI SMS Spam Collection (../shared/datasets) through its controller,
  Bayes and the other modules' state kept in a redis-server this script starts
  on the same core; modules that look anything up over the network (DNS lists,
  SPF/DKIM/DMARC, fuzzy, ASN, redirects) or fetch their lists from rspamd.com
  are off, as spimguard never fetches anything either, and so is greylisting
  (a mail-delivery deferral). Each text is sent as a small well-formed mail
  between the load's own people, which is what Rspamd parses. Rspamd's workers
  close the connection after every answer, so each check pays its connect.
- spimguard ``serve`` on the embedded defaults (SQLite), ``/v1/check``, over
  kept-alive connections.
- Saturation (16 connections, closed loop) in rounds after one uncounted round
  each, the order reversed each round (A B B A), so that what the rest of a
  shared machine takes falls on both alike; then each at 30/50/70 % of its own
  saturation (open loop, latency from when each request was due), each level's
  saturation a round run just before it, on the messages that come next (later
  messages cost spimguard more: its state has grown). For spimguard,
  ``/healthz`` of the same server offered the same rates and at saturation, as
  the floor of the HTTP layer; at each level where the server spent a check's
  time (its ``/metrics``: waiting for a batch, the batch and its CPU); and its CPU
  per check split into the engine's and the rest (HTTP, JSON, the batching).
- the engine in-process (``engine.py``), memory and SQLite.

Ratios are what carry across machines: spimguard ÷ Rspamd (goal ≥ 3), /v1/check
÷ /healthz (goal ≥ 0.30), p99 at 70 % (goal ≤ 10 ms). The servers' own CPU time
per request at saturation (from ``/proc``; Rspamd's counts its Redis) is printed
beside: on a machine shared with other work, rates and latencies say how much of
the core a server got, the CPU time what each request cost it; and /healthz's
rate may be the client's limit rather than the server's (its CPU time says which).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

import engine
from api import (
    SLOW_ROW,
    SPLIT_ROW,
    TOKEN,
    Load,
    _request,
    messages,
    offer,
    saturate,
    slow,
    split,
    totals,
)
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


@dataclass
class Server:
    """A server under test: the requests it is sent, the processes whose CPU time a
    request costs, and (spimguard) its /healthz, offered beside each level."""
    name: str
    port: int
    load: Load
    pids: tuple[int, ...]
    health: Load | None = None


@dataclass
class Saturation:
    """Closed-loop rounds at saturation of one server, put together."""
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu: float | None = 0.0  # seconds the server's processes spent; None: /proc not there

    @property
    def rate(self) -> float:
        return statistics.mean(self.rates)

    @property
    def cost(self) -> float | None:
        return None if self.cpu is None else self.cpu / len(self.latencies)

    def rows(self, name: str, unit: str = "messages/s") -> Rows:
        rounds = " / ".join(f"{rate:,.0f}" for rate in self.rates)
        rows = [(f"{name} at saturation, {unit} (each round)", f"{self.rate:,.0f} ({rounds})"),
                ("  p50 / p95 / p99 ms", latency(self.latencies))]
        if self.cost is not None:
            rows.append(("  server CPU per request, ms", f"{self.cost * 1000:.3f}"))
        return rows


def _saturate(server: Server, load: Load, seconds: float, into: Saturation) -> None:
    """One round at saturation (16 connections, closed loop) added to ``into``."""
    before = [cpu_seconds(pid) for pid in server.pids]
    rate, lat = asyncio.run(saturate(server.port, load, seconds, 16))
    after = [cpu_seconds(pid) for pid in server.pids]
    into.rates.append(rate)
    into.latencies += lat
    if into.cpu is None or not server.pids or None in before or None in after:
        into.cpu = None
    else:
        into.cpu += sum(after) - sum(before)  # type: ignore[arg-type]


def _side_by_side(servers: list[Server], seconds: float, rounds: int = 2
                  ) -> list[Saturation]:
    """Each server at saturation in turn, the order reversed every round (A B B A), so a
    change in what the rest of the machine takes falls on both alike; after a round each
    that is not counted: spimguard's first thousands of messages cost it less (its state
    is still small; 0.75 against 0.93-1.1 ms of engine CPU a message, measured)."""
    for server in servers:
        _saturate(server, server.load, seconds, Saturation())
    found = [Saturation() for _ in servers]
    for turn in range(rounds):
        order = list(zip(servers, found, strict=True))
        for server, into in order if turn % 2 == 0 else reversed(order):
            _saturate(server, server.load, seconds, into)
    return found


def _levels(server: Server, seconds: float) -> Rows:
    """30/50/70 % of saturation, open loop, each a share of a saturation round run just
    before it on the messages that come next. The load's later messages cost more than
    its first (their accounts have a day's sets and ties behind them: ~25 % more a
    message on the load's second day, ``batch38`` in docs/speed-log.md), so a share of
    the side-by-side rounds' rate, measured on earlier messages, offered more than that
    share of what the level's own messages allow (its "70 %" was ~85-90 %). Both rates
    are printed. Given /healthz (spimguard), each level adds where the server spent a
    check's time and /healthz offered the same rate: on a shared machine, the latency
    that any request at that rate gets from the client and the scheduler alone."""
    rows: Rows = []
    for share in (0.3, 0.5, 0.7):
        just_before = Saturation()
        _saturate(server, server.load, seconds / 2, just_before)
        saturated = just_before.rate
        before = totals(server.port) if server.health else {}
        achieved, lat = asyncio.run(offer(server.port, server.load, share * saturated,
                                          seconds))
        goal = " (goal p99 ≤ 10)" if share == 0.7 and server.health else ""
        rows += [(f"{server.name} at {share:.0%} ({achieved:,.0f}/s), p50/p95/p99 ms{goal}",
                  latency(lat)),
                 ("  of a saturation just before it, messages/s", f"{saturated:,.0f}")]
        if server.health:
            after = totals(server.port)
            rows += [(SPLIT_ROW, split(before, after)), (SLOW_ROW, slow(before, after))]
            _, beside = asyncio.run(offer(server.port, server.health, share * saturated,
                                          seconds))
            rows.append(("  /healthz offered the same rate, p50/p95/p99 ms", latency(beside)))
    return rows


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


@contextmanager
def _rspamd(messages: list[dict[str, Any]], datasets: Path, core: int | None
            ) -> Iterator[tuple[Server | None, Rows]]:
    """Rspamd and its Redis pinned to ``core``, Bayes trained; the CPU a check costs
    counts the normal worker and Redis (where Bayes lives)."""
    binary, redis_server = shutil.which("rspamd"), shutil.which("redis-server")
    if not binary or not redis_server:
        yield None, [("Rspamd", "rspamd or redis-server not installed: skipped")]
        return
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
            normal = [pid for pid, line in _children(server.pid).items()
                      if "normal process" in line]
            checks = Load([_check(_load_mail(message, n)) for n, message in enumerate(messages)])
            yield Server(f"Rspamd {version} /checkv2", worker, checks,
                         (*normal, store.pid) if normal else ()), [
                (f"Rspamd {version}: UCI SMS texts Bayes learnt (of {offered:,})",
                 f"{learnt:,}"),
                ("  Bayes on a spam / a ham text not in the set", " / ".join((
                    _bayes(worker, "URGENT! You have won a 1 week FREE membership in our "
                           "prize draw, txt CLAIM to 81010 now to receive your cash"),
                    _bayes(worker, "ok see you at home later tonight, i will bring the "
                           "food and we can watch the film after dinner")))),
                (f"  Rspamd on the load's first {_SAMPLE} texts",
                 _verdicts(worker, messages[:_SAMPLE]))]
        finally:
            server.terminate()
            server.wait(30)
            store.terminate()
            store.wait(10)


@contextmanager
def _spimguard(lines: list[bytes], core: int | None) -> Iterator[Server]:
    """``spimguard serve`` on the embedded defaults (SQLite), pinned to ``core``."""
    bodies = [line for line in lines if b'"type":"message"' in line]
    with tempfile.TemporaryDirectory() as folder:
        process, url, _ = serve(Path(folder), {
            "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)},
            cpu=core)
        try:
            yield Server("spimguard /v1/check (SQLite)", int(url.rsplit(":", 1)[1]),
                         messages("/v1/check", bodies), (process.pid,),
                         Load([_request("GET", "/healthz")]))
        finally:
            process.terminate()
            process.wait(10)


def _engine_share(before: dict[str, float], after: dict[str, float], cost: float | None
                  ) -> Rows:
    """The server's CPU per check split: the engine's (its thread's CPU over the batches,
    from ``/metrics``) and the rest (HTTP, JSON, the batching, the counters)."""
    messages = after["spimguard_batch_messages_sum"] - before["spimguard_batch_messages_sum"]
    if cost is None or not messages:
        return []
    engine_cpu = (after["spimguard_batch_cpu_seconds_sum"]
                  - before["spimguard_batch_cpu_seconds_sum"]) / messages
    return [("  of which the engine / the rest of the server, ms",
             f"{engine_cpu * 1000:.3f} / {(cost - engine_cpu) * 1000:.3f}")]


def _judged(server: Server) -> Rows:
    """Proof that every /v1/check was judged: the server's count of new messages against
    the requests sent (a repeated id is answered from the log without judging, and would
    flatter every figure), and how often the load went round (each lap under new ids)."""
    counted = sum(float(line.rpartition(" ")[2]) for line in httpx.get(
        f"http://127.0.0.1:{server.port}/metrics", timeout=10).text.splitlines()
        if line.startswith('spimguard_events_total{type="message"}'))
    return [("/v1/check requests sent / judged as new messages (the server's count)",
             f"{server.load.next:,} / {counted:,.0f}"),
            ("  times through the load's messages (each lap under new ids)",
             f"{server.load.laps:.1f} of {len(server.load.requests):,}")]


def _ratios(ours: Saturation, theirs: Saturation) -> Rows:
    """spimguard ÷ Rspamd, round by round (rates) and by the CPU a check cost."""
    each = [mine / other for mine, other in zip(ours.rates, theirs.rates, strict=True)]
    rows = [("spimguard /v1/check ÷ Rspamd /checkv2, rates (each round; goal ≥ 3)",
             f"{statistics.mean(each):.2f} ({' / '.join(f'{ratio:.2f}' for ratio in each)})")]
    if ours.cost and theirs.cost:
        rows.append(("  the same by server CPU per request (Rspamd's ÷ ours)",
                     f"{theirs.cost / ours.cost:.2f}"))
    return rows


def main(seconds: float = 8.0, users: int = 2000, days: int = 2,
         datasets: Path = DATASETS, with_rspamd: bool = True) -> Rows:
    lines = engine.load(users, days)
    messages = [msgspec.json.decode(line) for line in lines if b'"type":"message"' in line]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_core = cores[0] if len(cores) > 1 else None
    rows: Rows = [("cores: the servers (each measured alone) / this client",
                   f"{server_core} / {cores[-1]}" if server_core is not None
                   else "not pinned")]
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[-1]})
    try:
        with ExitStack() as running:
            theirs, setup = running.enter_context(_rspamd(messages, datasets, server_core)) if (
                with_rspamd) else (None, [])
            ours = running.enter_context(_spimguard(lines, server_core))
            before = totals(ours.port)
            found = _side_by_side([ours, *([theirs] if theirs else [])], seconds)
            rows += [*setup, *found[0].rows(ours.name),
                     (SPLIT_ROW, split(before, totals(ours.port))),
                     *_engine_share(before, totals(ours.port), found[0].cost)]
            if theirs:
                rows += [*found[1].rows(theirs.name), *_ratios(found[0], found[1]),
                         *_levels(theirs, seconds)]
            rows += _levels(ours, seconds)
            floor = Saturation()
            _saturate(ours, ours.health, seconds, floor)  # type: ignore[arg-type]
            rows += [*floor.rows("spimguard /healthz", "requests/s"),
                     ("/v1/check ÷ /healthz (goal ≥ 0.30)", f"{found[0].rate / floor.rate:.2f}"),
                     *_judged(ours)]
    finally:
        if cores:
            os.sched_setaffinity(0, set(cores))
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
