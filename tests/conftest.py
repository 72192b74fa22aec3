"""Shared test helpers: configs, event builders and a real uvicorn server."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from spimguard import Config, Engine, decode_event, load_config, open_engine

T0 = 1_790_000_000.0


def shared_datasets() -> Path | None:
    """The public datasets folder, read where it is (never copied into the repository):
    $SPIMGUARD_DATASETS, or a ``shared/datasets`` beside the checkout or one of its
    parents (the project's own, or a git worktree's a level deeper); None without one."""
    given = os.environ.get("SPIMGUARD_DATASETS")
    if given:
        return Path(given)
    here = Path(__file__).resolve().parents[1]
    return next((p / "shared/datasets" for p in here.parents
                 if (p / "shared/datasets/sms-spam-collection").is_dir()), None)


TOKEN = "test-token-0123456789"


class DetectorFailures(logging.Handler):
    """The detector failures the engine logged. In production a failing detector is left
    out and the message still gets its answer; in a test that hides the bug (a "nothing
    fired" assertion passes because the detector crashed), so every test fails on one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and message.startswith("detector "):
            self.failures.append(f"{message}: {record.exc_info[1]!r}")

    def check(self) -> None:
        if self.failures:
            pytest.fail("the engine logged a detector failure (and answered anyway): "
                        + "; ".join(self.failures[:5]), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "detector_failure_expected: the test breaks a detector "
                            "on purpose (how the engine copes), so its logged failure is fine")


# The files that took longest (seconds of their tests in one whole run, session 46, at a
# load of 5-7: 230 down to 90), handed out first: with ``--dist loadfile`` a file is one
# worker's, and xdist's own order (most tests first, ``--loadscope-reorder``) left files of
# few long tests to the end, where one sets the run's tail while the other worker idles.
# Every other file follows in collection order; a file's tests keep theirs.
LONGEST_FIRST = ("test_simulate.py", "test_linear41.py", "test_batch_grouping.py",
                 "test_api.py", "test_batch_grouping_redis.py", "test_fuzz_api.py",
                 "test_root40.py", "test_xmpp_hostile.py", "test_url_model.py",
                 "test_determinism.py", "test_maintenance.py", "test_console_browser.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def no_detector_failures(request: pytest.FixtureRequest) -> Iterator[DetectorFailures]:
    handler = DetectorFailures()
    engine_log = logging.getLogger("spimguard.engine")
    engine_log.addHandler(handler)
    try:
        yield handler
    finally:
        engine_log.removeHandler(handler)
    if request.node.get_closest_marker("detector_failure_expected") is None:
        handler.check()


def killed_while_acknowledging(argv: list[str], first: int,
                                env: dict[str, str] | None = None) -> list[str]:
    """Run ``argv`` (a process that prints each id it acknowledges, a line each), read its
    ``first`` lines, then kill -9 it at an arbitrary moment after: in a batch, its commit,
    or between two. Returns every id it printed."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(first)]
    time.sleep(random.uniform(0.0, 0.05))
    child.kill()
    acknowledged += child.stdout.read().split()
    child.wait()
    return acknowledged


def config(**overrides: Any) -> Config:
    overrides.setdefault("storage", {"backend": "memory"})
    return load_config(environ={}, **overrides)


def engine(**overrides: Any) -> Engine:
    return open_engine(config(**overrides))


def engine_on_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    """An engine on ``backend`` (memory, sqlite, or redis in the test's own namespace), its
    records in ``tmp_path``: for a test run on each store."""
    storage: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        storage.update(redis_url=request.getfixturevalue("redis_url"),
                       redis_namespace=request.getfixturevalue("redis_namespace"))
    return open_engine(config(storage=storage, records={"evidence_key": "test-evidence-key"}),
                       tmp_path)


def event(cfg: Config, **fields: Any) -> Any:
    return decode_event(msgspec.json.encode(fields), cfg.limits)


def message(cfg: Config, id: str, sender: str, recipients: list[str], text: str,
            ts: float = T0, **extra: Any) -> Any:
    return event(cfg, type="message", id=id, sender=sender, recipients=recipients, text=text,
                 ts=ts, **extra)


# Ordinary chat in one language (Turkish: a language the bundled model lets through),
# what the learners must not learn from reports of it.
TURKISH_CHAT = [
    "Selam arkadaşlar, yarın akşam maç için buluşuyor muyuz? yer sınırlı, erken gelin",
    "Merhaba millet, toplantı saat beşe ertelendi, ayrıntılar grupta",
    "İyi akşamlar komşular, apartman aidatını bu hafta ödemeyi unutmayın",
    "Herkese selam, evden çalışarak geçen hafta projeyi bitirdim, çok yoruldum",
    "annem akşam yemeğe bekliyor, dönüşte ekmek alır mısın?",
    "telefonla yarım saatte konuştuk ama hiçbir şey anlamadım, yarın tekrar ararım"]


PALS = ("are we still on for dinner tonight", "did you get home ok yesterday",
        "mum says thanks for the flowers")


def clusters_at(engine: Engine, bands: Any, now: float) -> list[Any]:
    """The bulk clusters (``bulk.Cluster``) the band keys ``bands`` name, as read at
    ``now``: each band holds its cluster's id, the summary is under the cluster's home."""
    from spimguard.detectors.bulk import home, loaded
    from spimguard.state.ops import Get

    ids = dict.fromkeys(v for v in engine.state.read([Get(k) for k in bands], now) if v)
    held = engine.state.read([Get(home(i)) for i in ids], now)
    return [loaded(value) for value in held if value]


def established(engine: Engine, *accounts: str, ts: float = T0) -> None:
    """The IM server tells spimguard these accounts are a month old (``account`` events),
    and each has a life of its own (friends of its own wrote to it): their reports weigh
    in full (``trust.py``: age and footprint)."""
    for name in accounts:
        engine.process(event(engine.config, type="account", id=f"acct-{name}", ts=ts,
                             account=name, created=ts - 30 * 86_400))
        for k, text in enumerate(PALS):
            engine.process(message(engine.config, f"pal-{name}-{k}", f"{name}~pal{k}", [name],
                                   text, ts))


def forget_conversions(path: Path, marks: str) -> None:
    """Drop a SQLite state file's marks of conversions done (``state_keys`` names LIKE
    ``marks``), as a file of the release before them has none: its next open converts."""
    raw = sqlite3.connect(path)
    raw.execute("DELETE FROM state_keys WHERE name LIKE ?", (marks,))
    raw.commit()
    raw.close()


def in_eights(names: tuple[str, ...], times: bytes) -> bytes:
    """A held record's times as the release before the six-byte times held them (SQLite's
    layout 1): the first byte's top bit clear, every distinct time a double."""
    from spimguard.state import sided

    sides = times[0] >> 2 & 31
    at = 1 + 16 * sides + (sides * len(names) << (times[0] & 3))
    listed = sided._listed(times, at)
    return bytes((times[0] & 0x7F,)) + times[1:at] + struct.pack(f"<{len(listed)}d", *listed)


def as_session34(names: tuple[str, ...], times: bytes, ttls: tuple[float, ...]) -> bytes:
    """A held record (its keyspace's sides' declared TTLs ``ttls``) as session 34's release
    held it (SQLite's layout 2, or 1 through ``in_eights``): every side's head held, two
    doubles a side after the first byte; the ranks and times the same bytes."""
    from spimguard.state import sided

    flat = sided._flat(times, len(names), ttls)
    return (times[:1] + struct.pack(f"<{2 * len(ttls)}d", *flat[:2 * len(ttls)])
            + times[sided._ranks_at(times, len(ttls)):])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def stopped_after(server: Any) -> Iterator[Any]:
    """``server`` (anything with ``stop()``) for the block, stopped however it ends."""
    try:
        yield server
    finally:
        server.stop()


def start_server(data_dir: Path, port: int | None = None, config_file: Path | None = None,
                 extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = (), ready_within: float = 120.0) -> Server:
    """A spimguard server of its own, ready to answer. ``ready_within`` is a bound on a
    start-up (loading the models), not a timing test: generous, for a CI machine whose
    two cores are busy (30 s missed under load 20)."""
    port = port or free_port()
    log = data_dir.parent / f"server-{port}.log"
    env = {**os.environ, "SPIMGUARD_API_TOKEN": TOKEN, **(extra_env or {})}
    args = [sys.executable, "-m", "spimguard", "serve", "--host", "127.0.0.1", "--port",
            str(port), "--data-dir", str(data_dir), "--log-level", "warning"]
    if config_file:
        args += ["--config", str(config_file)]
    args += extra_args
    with log.open("ab") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", data_dir, process, log)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become ready: {log.read_text()}")


def detector_failures_in(logged: str) -> list[str]:
    """The lines of a process's own log that tell of a detector failure: one that failed on
    an event (answered without it) or was disabled as it was built (a replay's, a run's)."""
    return [line for line in logged.splitlines()
            if "detector " in line and (" failed " in line or " disabled: " in line)]


def no_detector_failure_in(server: Server) -> None:
    """The server process's own log, read the way ``no_detector_failures`` reads ours."""
    logged = server.log.read_text("utf-8", "replace").splitlines()
    failures = [line for line in logged if "detector " in line and " failed " in line]
    if failures:
        pytest.fail(f"the server logged a detector failure: {failures[:5]}", pytrace=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "data")
    yield running
    running.stop()
    no_detector_failure_in(running)


@pytest.fixture(scope="module")
def server_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a whole module (hypothesis runs many examples against it)."""
    running = start_server(tmp_path_factory.mktemp("once") / "data")
    yield running
    running.stop()
    no_detector_failure_in(running)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: the machine's on 127.0.0.1:6379, or one started here for the tests."""
    import shutil

    import redis

    try:
        redis.Redis(socket_connect_timeout=1).ping()
        yield "redis://127.0.0.1:6379/0"
        return
    except redis.RedisError:
        pass
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no Redis on 127.0.0.1:6379 and no redis-server to start; install "
                           "one (apt-get install redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, removed afterwards."""
    import uuid

    import redis

    namespace = f"spimguard-test-{uuid.uuid4().hex}:"
    yield namespace
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=namespace + "*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def compact(tmp_path: Path) -> Iterator[str]:
    """A redis-server's URL, at the recommended hash-max-listpack-value."""
    from redis_harness import RedisServer
    from spimguard.state.redis import RECOMMENDED_LISTPACK_VALUE

    server = RedisServer(tmp_path, free_port())
    server.start()
    try:
        import redis

        redis.Redis.from_url(server.url).config_set("hash-max-listpack-value",
                                                    RECOMMENDED_LISTPACK_VALUE)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL (superuser URL without a database): the machine's on
    127.0.0.1:5432, or a cluster made here with Debian's initdb/pg_ctl."""
    from postgres_harness import Cluster, reachable

    if reachable("postgresql://postgres@127.0.0.1:5432/postgres"):
        yield "postgresql://postgres@127.0.0.1:5432"
        return
    cluster = Cluster.create(free_port())
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database of this test's own, at the current schema, dropped afterwards."""
    from postgres_harness import database

    with database(postgres_server, upgraded=True) as url:
        yield url
