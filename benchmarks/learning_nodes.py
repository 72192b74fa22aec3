"""What one report on one node costs another node sharing its Redis.

    python benchmarks/learning_nodes.py [--remembered 2000] [--redis redis://127.0.0.1:6379/0]

Node A is sent ``--remembered`` pitches, each reported by its recipient (batches of 250
pairs), and node B judges one message (it catches up once). Then five times: one more
pitch and its report on A, and B's next message timed in CPU (``time.process_time``):
what B pays to take in A's report. Printed beside it: a message on B with no report
between. The keys are written under a namespace of the run's own, removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import redis

from spimguard import decode_event, load_config, open_engine

T0 = 1_790_000_000.0
PITCH = ("Hot new ringtones! Download now at https://tonez-shop.biz/get?id={i} only $1, "
         "text WIN to 8787 code {i}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--remembered", type=int, default=2_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    n, namespace = args.remembered, f"learning-nodes-{time.time_ns()}:"
    cfg = load_config(environ={}, storage={"backend": "redis", "redis_url": args.redis,
                                           "redis_namespace": namespace},
                      records={"evidence_key": "benchmark-evidence-key"})

    def event(**fields: Any) -> Any:
        return decode_event(msgspec.json.encode(fields), cfg.limits)

    def pair(i: int) -> tuple[Any, Any]:
        return (event(type="message", id=f"m{i}", sender=f"bot{i % 7}", recipients=[f"r{i}"],
                      text=PITCH.format(i=i), ts=T0 + 2 * i),
                event(type="report", id=f"p{i}", ts=T0 + 2 * i + 1, reporter=f"r{i}",
                      message_id=f"m{i}", label="spam"))

    def chat(id: str, ts: float) -> Any:
        return event(type="message", id=id, sender="ann", recipients=["ben"],
                     text="see you at 8", ts=ts)

    with tempfile.TemporaryDirectory() as folder:
        a, b = open_engine(cfg, Path(folder) / "a"), open_engine(cfg, Path(folder) / "b")
        try:
            for start in range(0, n, 250):
                chunk = [pair(i) for i in range(start, min(n, start + 250))]
                a.process_batch([m for m, _ in chunk] + [r for _, r in chunk])
            b.process(chat("b0", T0 + 2 * n + 10))
            costs = []
            for k in range(5):
                for one in pair(n + k):
                    a.process(one)
                start_cpu = time.process_time()
                b.process(chat(f"b{k + 1}", T0 + 2 * (n + k) + 5))
                costs.append(time.process_time() - start_cpu)
            start_cpu = time.process_time()
            b.process(chat("quiet", T0 + 2 * n + 100))
            quiet = time.process_time() - start_cpu
        finally:
            a.close()
            b.close()
            client = redis.Redis.from_url(args.redis)
            for key in client.scan_iter(f"{namespace}*", count=10_000):
                client.delete(key)
    print(f"{n} remembered: node B's next message after one report on A: median "
          f"{statistics.median(costs) * 1000:.1f} ms CPU "
          f"(runs {[round(c * 1000, 1) for c in costs]}); with no report between: "
          f"{quiet * 1000:.1f} ms")


if __name__ == "__main__":
    main()
