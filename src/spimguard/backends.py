"""The stores and detectors an engine runs on, as configuration names them.

SQLite holds state and records in one file and one connection (one transaction
for a batch's counters and verdicts); memory is the test double; Redis and
PostgreSQL are the shared stores of many nodes.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from .config import Config
from .db import kept_secret, open_writer
from .detectors import BUILDERS, Detector
from .errors import ConfigError
from .records import RecordStore
from .records.memory import MemoryRecords
from .records.sqlite import SQLiteRecords
from .state import StateBackend
from .state.memory import MemoryState
from .state.sqlite import SQLiteState

log = logging.getLogger("spimguard.engine")


def build_detectors(config: Config) -> tuple[list[Detector], dict[str, str]]:
    """Every registered detector that config enables; bad settings disable one, with why."""
    built: list[Detector] = []
    disabled: dict[str, str] = {}
    for name, builder in BUILDERS.items():
        given = dict(config.detectors.get(name, {}))
        if given.get("enabled", True) is False:
            disabled[name] = "disabled in config"
            continue
        try:
            built.append(builder(given, config))
        except ConfigError as exc:
            log.error("detector %s disabled: %s", name, exc)
            disabled[name] = str(exc)
    unknown = set(config.detectors) - set(BUILDERS)
    for name in sorted(unknown):
        disabled[name] = f"no detector named {name!r}"
    return built, disabled


def open_stores(config: Config, folder: Path) -> tuple[StateBackend, RecordStore]:
    """The configured state and record stores (SQLite in ``folder``, memory, or the shared
    Redis and PostgreSQL)."""
    if config.shared and not config.records.evidence_key:
        raise ConfigError("records.evidence_key must be set when state or records are shared "
                          "(every node must pseudonymise alike); set "
                          "SPIMGUARD__RECORDS__EVIDENCE_KEY")
    storage = config.storage
    embedded = storage.backend == "sqlite" or (
        storage.backend == "redis" and config.records.backend == "sqlite")
    conn = open_writer(folder / "spimguard.db", storage.synchronous) if embedded else None
    if config.records.backend == "postgres":
        from .records.postgres import PostgresRecords

        records: RecordStore = PostgresRecords(config.records.url, config.records.pool_size)
    elif conn is not None:
        records = SQLiteRecords(conn)
    else:
        records = MemoryRecords()
    if storage.backend == "redis":
        from .state.redis import RedisState

        state: StateBackend = RedisState(storage.redis_url, storage.redis_namespace)
    elif storage.backend == "sqlite" and conn is not None:
        # One transaction for counters and verdicts: the records' rows go in first.
        state = SQLiteState(conn, before_commit=records.flush
                            if isinstance(records, SQLiteRecords) else None)
    else:
        state = MemoryState()
    return state, records


def evidence_key(config: Config, folder: Path) -> bytes:
    """The configured key, or one made once and kept beside the data (0600)."""
    if config.records.evidence_key:
        return config.records.evidence_key.encode()
    if config.storage.backend == "memory":
        return secrets.token_bytes(32)
    return kept_secret(folder / "evidence-key").encode()
