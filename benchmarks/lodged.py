"""What sessions lodged in an account's ties cost Redis when the ties are rewritten whole.

    python benchmarks/lodged.py [--rewrites 20] [--sessions 0 1 8] [--names 1000]

A takeover session's record (``tk:session:<account>:<session>``) may be lodged in its
account's ties hash (``ops.guest_keyspace``, ``state/redis.py``). A touch of the ties that
rewrites them whole (a member past its TTL, the side at its cap: ``stouch``'s full path)
reads the whole hash, lodged sessions and all. An attacker holding the account can log in
from many sessions and send to many names from each: if every session stayed lodged,
every routine rewrite of that account would cost Redis's one thread that much more.

For each number of sessions: the account's ties (``--ties`` members on the talked side,
at its cap) and that many sessions of ``--names`` names on each of their two sides (sent
to ``--step`` at a time: a session grows from small, as an attacker's would), then
``--rewrites`` touches of the ties, each of a new member (over the cap: a whole rewrite).
Figures: Redis's own time for the rewrites (INFO commandstats, summed over commands,
reset before them: a redis-server of this script's own, on a free port, so no other
client's commands count; its hash-max-listpack-value the recommended), the ties hash's
fields, encoding and MEMORY USAGE.
"""

from __future__ import annotations

import argparse

import redis

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.ops import Touch
from spimguard.state.redis import RECOMMENDED_LISTPACK_VALUE, RedisState
from table import Rows, redis_server, show

ACCOUNT = "@victim:s"


def _redis_ms(client: redis.Redis) -> float:
    """Redis's time in commands since the last CONFIG RESETSTAT, in ms."""
    return sum(stat["usec"] for name, stat in client.info("commandstats").items()
               if name.startswith("cmdstat_")) / 1_000


def measure(client: redis.Redis, url: str, sessions: int, names: int, step: int, ties: int,
            rewrites: int) -> Rows:
    ns = f"lodged-{sessions}:"
    state = RedisState(url, ns)
    record = accounts.tie_record(ACCOUNT)
    state.write([Touch(record, tuple(f"@t{i}:s" for i in range(ties)), 86_400.0, ties,
                       accounts.TALKED)], T0)
    for s in range(sessions):
        crowd = tuple(f"@s{s}p{i}:s" for i in range(names))
        session = keys.lifelong(ACCOUNT, f"sess{s}")
        for side in (keys.LIFE, keys.PALS):
            for at in range(0, names, step):  # sends of ``step`` names each
                state.write([Touch(session, crowd[at:at + step], 86_400.0, 5_000, side)], T0 + 1)
    client.config_resetstat()
    for i in range(rewrites):
        state.write([Touch(record, (f"@n{i}:s",), 86_400.0, ties, accounts.TALKED)],
                    T0 + 2 + i)
    spent = _redis_ms(client)
    host = ns + record
    state.close()
    label = f"{sessions} session(s) of {names:,} names"
    return [(f"{label}: Redis ms for {rewrites} whole rewrites of the ties", f"{spent:,.1f}"),
            (f"{label}: the ties hash's fields", f"{client.hlen(host):,}"),
            (f"{label}: the ties hash's encoding",
             client.object("encoding", host).decode()),  # type: ignore[union-attr]
            (f"{label}: the ties hash's bytes (MEMORY USAGE)",
             f"{client.memory_usage(host) or 0:,}")]


def main(sessions: list[int], names: int, step: int, ties: int, rewrites: int) -> Rows:
    with redis_server(RECOMMENDED_LISTPACK_VALUE) as port:
        if port is None:
            return [("Redis", "redis-server not installed: skipped")]
        client, url = redis.Redis(port=port), f"redis://127.0.0.1:{port}/0"
        return [row for k in sessions
                for row in measure(client, url, k, names, step, ties, rewrites)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rewrites", type=int, default=20)
    parser.add_argument("--sessions", type=int, nargs="+", default=[0, 1, 8])
    parser.add_argument("--names", type=int, default=1_000, help="a session's, each side")
    parser.add_argument("--step", type=int, default=10, help="names a touch of a session")
    parser.add_argument("--ties", type=int, default=20, help="the account's own, at its cap")
    args = parser.parse_args()
    show(main(args.sessions, args.names, args.step, args.ties, args.rewrites))
