"""Settings: built-in defaults that work, a TOML file over them, the environment last.

Read once at start-up into frozen dataclasses (never at import time); an error
names the key and the bad value. Detector settings are kept as plain tables
here and built by each detector into its own frozen settings class
(``detectors.base.settings``), which refuses a key the class does not name.

Environment: ``SPIMGUARD_API_TOKEN``, ``SPIMGUARD_DATA_DIR``,
``SPIMGUARD_OFFICIAL_CLIENTS`` (comma-separated), and any key as
``SPIMGUARD__SECTION__KEY=<TOML value>`` (``SPIMGUARD__POLICY__HOLD=8``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .events import Limits
from .trust import TrustConfig

_ENV_PREFIX = "SPIMGUARD__"


@dataclass(frozen=True)
class PolicyConfig:
    warn: float = 4.0  # score at which a message is delivered with a notice
    hold: float = 7.0  # score at which it is kept back for review
    block: float = 12.0  # score at which it is dropped
    # Account actions come from the points of the account-level groups only
    # (behaviour of the sender, not the words of one message).
    account_groups: tuple[str, ...] = ("velocity", "takeover")
    # The groups of evidence that someone other than the owner is writing from the
    # session: the one doubt the owner's challenge answers. A hold that rests on them asks
    # for the challenge, and a pass releases it (policy.py, server/challenges.py).
    session_groups: tuple[str, ...] = ("takeover", "burst")
    # Two points above the velocity cap: behaviour alone never challenges, nor does
    # behaviour with a trace of takeover evidence (a new-year greeting from a phone).
    challenge: float = 8.0
    suspend_sending: float = 9.0
    restriction_ttl: float = 7 * 86400.0  # seconds a restriction lasts unless lifted
    # Sender notices name the evidence ("link to x, denied by the operator") only if true:
    # a spammer reads them to probe the filter (notices.py). Takeover facts always shown.
    sender_reasons: bool = False


@dataclass(frozen=True)
class StorageConfig:
    # "sqlite": embedded and durable; "redis": hot state shared by many processes
    # (records in [records] backend); "memory": tests and benchmarks.
    backend: str = "sqlite"
    data_dir: str = "./spimguard-data"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_namespace: str = "spimguard:"  # key prefix, so installations can share a Redis
    # When a store cannot answer, /v1/check "closed": 503 (the IM server applies its own
    # policy); "open": deliver, with a DEGRADED signal, unjudged and uncounted.
    fail_mode: str = "closed"
    # The embedded SQLite file's fsyncs (``db.py``): "normal" keeps every answered event
    # through a crash of the process; "full" also through one of the machine (power loss),
    # for an fsync per commit.
    synchronous: str = "normal"


@dataclass(frozen=True)
class RecordsConfig:
    # "sqlite": in storage.data_dir, embedded; "postgres": shared by many nodes (url).
    # With storage.backend = "memory", records stay in memory unless "postgres".
    backend: str = "sqlite"
    url: str = ""  # postgresql://user@host:5432/db (SPIMGUARD__RECORDS__URL)
    pool_size: int = 4  # PostgreSQL connections per process (the reads' pool: half more)
    keep_text: bool = False  # store message text in the verdict log (privacy: off)
    retention_days: float = 30.0  # verdict log, reports, campaigns: kept this long (event time)
    # Key for recipient pseudonyms in evidence bundles; "" = one generated and kept
    # in the data dir (data_dir/evidence-key); required when state or records are shared.
    evidence_key: str = ""


@dataclass(frozen=True)
class MatrixConfig:
    """The synapse-http-antispam endpoints (``server/matrix.py``)."""

    enabled: bool = False
    prefix: str = "/matrix/antispam"  # the module's base_url path
    token: str = ""  # the module's ``authorization``: its own secret, not the API token
    fail_mode: str = "open"  # when spimguard cannot judge: "open" allows, "closed" refuses
    # An accepted invitation into a room this small makes inviter and invitee contacts:
    contacts_room_size: int = 20
    max_room_members: int = 5_000  # members remembered per room (recipients of its messages)
    # Telling senders of released messages that they may resend (server/matrix_notices.py):
    homeserver_url: str = ""  # the homeserver's client API, e.g. "http://127.0.0.1:8008"
    admin_token: str = ""  # an admin's access token: Synapse's server notices API
    # Who sends server notices ("@" + server_notices.system_mxid_localpart + ":" + server):
    # spimguard's own notices are not judged (they quote the message that was held).
    notices_user: str = ""
    notice_poll: float = 10.0  # seconds between looks at the release queue


@dataclass(frozen=True)
class Config:
    api_token: str = ""
    official_clients: tuple[str, ...] = ()
    language: str = "en"
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    records: RecordsConfig = field(default_factory=RecordsConfig)
    limits: Limits = field(default_factory=Limits)
    scores: Mapping[str, float] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    group_caps: Mapping[str, float] = field(default_factory=dict)
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    matrix: MatrixConfig = field(default_factory=MatrixConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)

    def weight(self, code: str) -> float:
        return self.scores.get(code, 1.0)

    @property
    def shared(self) -> bool:
        """Whether other processes share the state or the records (secrets from config)."""
        return self.storage.backend == "redis" or self.records.backend == "postgres"


def _bundled_scores() -> dict[str, Any]:
    text = resources.files("spimguard").joinpath("data/scores.toml").read_text("utf-8")
    return tomllib.loads(text)


def _coerce(section: str, cls: type, raw: Mapping[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    defaults = cls()
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"unknown setting {section}.{key}")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int | float):
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            value = type(default)(value) if ok else value
        elif isinstance(default, tuple):
            ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            value = tuple(value) if ok else value
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ConfigError(f"{section}.{key} = {value!r} is not a valid "
                              f"{type(default).__name__}")
        values[key] = value
    return cls(**values)


def _number_table(name: str, raw: Any) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    out = {}
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{name}.{key} = {value!r} is not a number")
        out[key] = float(value)
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(_ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(_ENV_PREFIX):].split("__") if p]
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare string
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    if "SPIMGUARD_API_TOKEN" in environ:
        tree["api_token"] = environ["SPIMGUARD_API_TOKEN"]
    if "SPIMGUARD_DATA_DIR" in environ:
        tree.setdefault("storage", {})["data_dir"] = environ["SPIMGUARD_DATA_DIR"]
    if "SPIMGUARD_OFFICIAL_CLIENTS" in environ:
        tree["official_clients"] = [c.strip() for c in
                                    environ["SPIMGUARD_OFFICIAL_CLIENTS"].split(",") if c.strip()]
    return tree


def build(raw: Mapping[str, Any]) -> Config:
    """A Config from one merged settings tree (bundled scores under the operator's)."""
    tree = _merge(_bundled_scores(), raw)
    allowed = {"api_token", "official_clients", "language", "policy", "storage", "records",
               "limits", "scores", "groups", "group_caps", "detectors", "matrix", "trust"}
    for key in tree:
        if key not in allowed:
            raise ConfigError(f"unknown setting {key!r}")
    token = tree.get("api_token", "")
    clients = tree.get("official_clients", [])
    if not isinstance(token, str):
        raise ConfigError("api_token must be a string")
    if not isinstance(clients, list | tuple) or not all(isinstance(c, str) for c in clients):
        raise ConfigError(f"official_clients = {clients!r} must be a list of strings")
    groups = tree.get("groups", {})
    if not all(isinstance(v, str) for v in groups.values()):
        raise ConfigError("every [groups] value must be a group name")
    detectors = tree.get("detectors", {})
    if not isinstance(detectors, Mapping) or not all(
            isinstance(v, Mapping) for v in detectors.values()):
        raise ConfigError("[detectors.NAME] sections must be tables")
    policy = _coerce("policy", PolicyConfig, tree.get("policy", {}))
    if not policy.warn <= policy.hold <= policy.block:
        raise ConfigError(f"policy thresholds must rise: warn {policy.warn} <= hold "
                          f"{policy.hold} <= block {policy.block}")
    storage = _coerce("storage", StorageConfig, tree.get("storage", {}))
    if storage.backend not in ("sqlite", "redis", "memory"):
        raise ConfigError(f"storage.backend = {storage.backend!r}: use 'sqlite', 'redis' "
                          "or 'memory'")
    if storage.fail_mode not in ("open", "closed"):
        raise ConfigError(f"storage.fail_mode = {storage.fail_mode!r}: use 'open' or 'closed'")
    if storage.synchronous not in ("normal", "full"):
        raise ConfigError(f"storage.synchronous = {storage.synchronous!r}: use 'normal' or "
                          "'full'")
    records = _coerce("records", RecordsConfig, tree.get("records", {}))
    if records.backend not in ("sqlite", "postgres"):
        raise ConfigError(f"records.backend = {records.backend!r}: use 'sqlite' or 'postgres'")
    if records.backend == "postgres" and not records.url.startswith(("postgresql://",
                                                                      "postgres://")):
        raise ConfigError("records.backend = 'postgres' needs records.url = "
                          "'postgresql://user@host:5432/db'")
    matrix = _coerce("matrix", MatrixConfig, tree.get("matrix", {}))
    if matrix.fail_mode not in ("open", "closed"):
        raise ConfigError(f"matrix.fail_mode = {matrix.fail_mode!r}: use 'open' or 'closed'")
    if matrix.enabled and not matrix.token:
        raise ConfigError("matrix.enabled needs matrix.token (the module's authorization)")
    if not matrix.prefix.startswith("/") or matrix.prefix.startswith("/v1/"):
        raise ConfigError(f"matrix.prefix = {matrix.prefix!r}: a path outside /v1/")
    if bool(matrix.admin_token) != matrix.homeserver_url.startswith(("http://", "https://")) or (
            bool(matrix.admin_token) != bool(matrix.notices_user)):
        raise ConfigError("matrix.admin_token, matrix.homeserver_url ('http(s)://...') and "
                          "matrix.notices_user go together: they tell senders of released "
                          "messages to resend")
    if matrix.notice_poll <= 0:
        raise ConfigError(f"matrix.notice_poll = {matrix.notice_poll}: a positive number")
    return Config(
        api_token=token,
        official_clients=tuple(clients),
        language=str(tree.get("language", "en")),
        policy=policy,
        storage=storage,
        records=records,
        limits=_coerce("limits", Limits, tree.get("limits", {})),
        scores=_number_table("scores", tree.get("scores", {})),
        groups=dict(groups),
        group_caps=_number_table("group_caps", tree.get("group_caps", {})),
        detectors={k: dict(v) for k, v in detectors.items()},
        matrix=matrix,
        trust=_coerce("trust", TrustConfig, tree.get("trust", {})),
    )


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None,
         **overrides: Any) -> Config:
    """Defaults, then the TOML file (``path`` or ``SPIMGUARD_CONFIG``), then the environment."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("SPIMGUARD_CONFIG")
    tree: dict[str, Any] = {}
    if path:
        try:
            tree = tomllib.loads(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    tree = _merge(tree, _from_env(environ))
    return build(_merge(tree, overrides))
