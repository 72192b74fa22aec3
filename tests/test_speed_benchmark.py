"""The speed benchmark runs end to end on a tiny load (a smoke: no figure is asserted,
``benchmarks/speed.py`` prints them)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_speed_benchmark_prints_every_figure(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import speed

    try:
        rows = speed.main(seconds=0.3, users=40, days=1, with_rspamd=False)
    finally:
        for name in ("speed", "api", "engine", "table"):
            sys.modules.pop(name, None)
    names = [name for name, _ in rows]
    assert any(name.startswith("spimguard /v1/check (SQLite) at saturation") for name in names)
    assert any(name.startswith("spimguard /v1/check (SQLite) at 70%") for name in names)
    assert any(name.startswith("/v1/check ÷ /healthz") for name in names)
    assert any(name.startswith("engine, SQLite backend") for name in names)
    assert all(value for _, value in rows)
