"""A real PostgreSQL for tests: a database of a test's own, or a whole cluster to stop.

The failure tests stop and restart PostgreSQL under load, so they run their own
cluster (Debian's ``initdb``/``pg_ctl`` under /usr/lib/postgresql/*/bin) and
never the machine's. PostgreSQL refuses to run as root: as root the cluster
belongs to the ``postgres`` account.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


def reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no {name}: install PostgreSQL (apt-get install postgresql)")
    return found[-1]


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    @classmethod
    def create(cls, port: int) -> Cluster:
        # Outside pytest's 0700 tmp tree, so the postgres account can reach it.
        folder = Path(tempfile.mkdtemp(prefix="spimguard-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(_as_owner([_bin("initdb"), "-D", str(folder / "data"), "-U", "postgres",
                                  "-A", "trust", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cluster = cls(folder, port)
        cluster.start()
        return cluster

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.folder / "data"), "-o",
                                  options, "-l", str(self.folder / "log"), "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self, remove: bool = True) -> None:
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m",
                                  "immediate", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def database(server: str, upgraded: bool, icu_locale: str = "") -> Iterator[str]:
    """A fresh database named for this branch and test, dropped afterwards; made with the
    server's default collation, or ICU's for ``icu_locale`` (a host's locale as initdb
    takes it: "en" orders "apple" before "Zed")."""
    from spimguard.records.postgres import upgrade

    name = f"spimguard_records_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}" + (
            f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
            if icu_locale else ""))
    url = f"{server}/{name}"
    try:
        if upgraded:
            upgrade(url)
        yield url
    finally:
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                break
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def migrated(url: str, version: int) -> None:
    """``url``'s database as a release at schema ``version`` left it: its first ``version``
    migrations applied and recorded, as ``upgrade`` then did (an upgrade's test starts
    from it)."""
    from spimguard.records import sql
    from spimguard.records.postgres import schema_version

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SCHEMA_TABLE)
        for number, name, script in sql.migrations("postgres")[:version]:
            conn.execute(script.encode())
            conn.execute("INSERT INTO spimguard_schema VALUES (%s, %s)", (number, name))
    assert schema_version(url) == version
