"""Many workers on Redis + PostgreSQL beside the embedded single process.

    python benchmarks/scale.py [--seconds 6] [--redis redis://127.0.0.1:6379/0]
                               [--postgres postgresql://postgres@127.0.0.1:5432]

- ``/v1/check`` at saturation (32 kept-alive connections, closed loop, messages of
  the simulator's mixed load, each id sent once): requests/s and p99, for the
  embedded process (SQLite) and for ``serve --workers N`` (N = 1, 2, 4) on Redis
  state and PostgreSQL records. Everything shares this machine's cores, client
  included: the figures compare layouts, they are no capacity plan.
- Store round trips per message, counted in-process on the same stores while
  batches of 32 messages (what group commit forms under that load) are judged:
  Redis round trips (each pipeline or script call is one), PostgreSQL commits and
  queries per batch.

It uses a database and a Redis key prefix of its own, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import psycopg
import redis
from redis.connection import Connection as RedisConnection

from api import TOKEN, Load, _request, saturate
from engine import load
from spimguard import decode_event, load_config, open_engine
from spimguard.records.postgres import PostgresRecords, upgrade
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import Rows, latency, serve, show

_BATCH = 32


@contextmanager
def stores(redis_url: str, server: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database and Redis prefix, dropped afterwards."""
    name = f"spimguard_records_scale_{uuid.uuid4().hex[:8]}"
    prefix = f"spimguard-records-scale-{uuid.uuid4().hex[:8]}:"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        upgrade(f"{server}/{name}")
        yield f"{server}/{name}", prefix
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        client = redis.Redis.from_url(redis_url)
        for keys in _chunks(list(client.scan_iter(match=prefix + "*", count=1000))):
            client.delete(*keys)


def _chunks(keys: list[bytes], size: int = 1000) -> Iterator[list[bytes]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size]


def _env(redis_url: str, prefix: str, pg_url: str) -> dict[str, str]:
    return {"SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS),
            "SPIMGUARD__STORAGE__BACKEND": "redis", "SPIMGUARD__STORAGE__REDIS_URL": redis_url,
            "SPIMGUARD__STORAGE__REDIS_NAMESPACE": prefix,
            "SPIMGUARD__RECORDS__BACKEND": "postgres", "SPIMGUARD__RECORDS__URL": pg_url,
            "SPIMGUARD__RECORDS__EVIDENCE_KEY": "scale-benchmark-key"}


def _checks(bodies: list[bytes], run: str) -> Load:
    """Every message once, under ids of this run's own."""
    return Load([_request("POST", "/v1/check", msgspec.json.encode(
        {**msgspec.json.decode(b), "id": f"{run}-{n}"})) for n, b in enumerate(bodies)])


def throughput(bodies: list[bytes], folder: Path, env: dict[str, str], run: str,
               seconds: float, workers: int = 1) -> tuple[float, list[float]]:
    process, url, _ = serve(folder, env, args=("--workers", str(workers)))
    try:
        return asyncio.run(saturate(int(url.rsplit(":", 1)[1]), _checks(bodies, run), seconds))
    finally:
        process.terminate()
        process.wait(30)


def round_trips(bodies: list[bytes], redis_url: str, pg_url: str, prefix: str,
                messages: int = 3200) -> Rows:
    """Redis round trips per message and PostgreSQL commits/queries per batch, counted."""
    cfg = load_config(
        environ={}, official_clients=list(OFFICIAL_CLIENTS),
        storage={"backend": "redis", "redis_url": redis_url, "redis_namespace": prefix},
        records={"backend": "postgres", "url": pg_url, "evidence_key": "scale-benchmark-key"})
    engine = open_engine(cfg)
    events = [decode_event(b, cfg.limits) for b in bodies[:messages]]
    sent = {"redis": 0, "commits": 0, "queries": 0}
    send, commit, query = (RedisConnection.send_packed_command, PostgresRecords.commit,
                           PostgresRecords._query)

    def counted_send(self: RedisConnection, *args: object, **kw: object) -> None:
        sent["redis"] += 1
        send(self, *args, **kw)  # type: ignore[arg-type]

    def counted_commit(self: PostgresRecords) -> None:
        sent["commits"] += 1
        commit(self)

    def counted_query(self: PostgresRecords, *args: object) -> list[tuple[object, ...]]:
        sent["queries"] += 1
        return query(self, *args)  # type: ignore[arg-type]

    RedisConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    PostgresRecords.commit = counted_commit  # type: ignore[method-assign]
    PostgresRecords._query = counted_query  # type: ignore[method-assign,assignment]
    try:
        for start in range(0, len(events), _BATCH):
            engine.process_batch(events[start:start + _BATCH])
    finally:
        RedisConnection.send_packed_command = send  # type: ignore[method-assign]
        PostgresRecords.commit = commit  # type: ignore[method-assign]
        PostgresRecords._query = query  # type: ignore[method-assign]
        engine.close()
    batches = -(-len(events) // _BATCH)
    return [(f"Redis round trips per message (batches of {_BATCH}; goal <= 2)",
             f"{sent['redis'] / len(events):.2f}"),
            ("PostgreSQL commits per batch (goal <= 1)", f"{sent['commits'] / batches:.2f}"),
            ("PostgreSQL queries per batch (repeated-id lookup)",
             f"{sent['queries'] / batches:.2f}")]


def main(seconds: float, redis_url: str, pg_server: str) -> Rows:
    lines = load(2000, 2)
    bodies = [line for line in lines if b'"type":"message"' in line]
    rows: Rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rate, lat = throughput(bodies, Path(tmp) / "embedded", {
            "SPIMGUARD_API_TOKEN": TOKEN,
            "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)}, "embedded", seconds)
        rows += [("embedded (SQLite, 1 process): /v1/check requests/s", f"{rate:,.0f}"),
                 ("  p50 / p95 / p99 ms", latency(lat))]
        for workers in (1, 2, 4):
            with stores(redis_url, pg_server) as (pg_url, prefix):
                rate, lat = throughput(bodies, Path(tmp) / f"w{workers}",
                                       _env(redis_url, prefix, pg_url), f"w{workers}",
                                       seconds, workers)
            rows += [(f"Redis + PostgreSQL, {workers} worker(s): requests/s", f"{rate:,.0f}"),
                     ("  p50 / p95 / p99 ms", latency(lat))]
    with stores(redis_url, pg_server) as (pg_url, prefix):
        rows += round_trips(bodies, redis_url, pg_url, prefix)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    arguments = parser.parse_args()
    show(main(arguments.seconds, arguments.redis, arguments.postgres))
