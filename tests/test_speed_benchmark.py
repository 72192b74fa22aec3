"""The speed benchmark runs end to end on a tiny load (a smoke: no figure is asserted,
``benchmarks/speed.py`` prints them). The Rspamd half runs only where Rspamd is
installed: CI does not install it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _rows(monkeypatch: pytest.MonkeyPatch, **options: object) -> dict[str, str]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import speed

    try:
        rows = speed.main(seconds=0.3, users=40, days=1, **options)
    finally:
        for name in ("speed", "api", "engine", "table"):
            sys.modules.pop(name, None)
    assert all(value for _, value in rows)
    return dict(rows)


def _named(rows: dict[str, str], part: str) -> list[str]:
    return [value for name, value in rows.items() if part in name]


def test_speed_benchmark_prints_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(monkeypatch, with_rspamd=False)
    for part in ("spimguard /v1/check (SQLite) at saturation",
                 "spimguard /v1/check (SQLite) at 70%", "/v1/check ÷ /healthz",
                 "engine, SQLite backend"):
        assert _named(rows, part), part


@pytest.mark.skipif(not (shutil.which("rspamd") and shutil.which("redis-server")),
                    reason="Rspamd is not installed (CI does not install it)")
def test_rspamd_is_trained_and_measured_beside_spimguard(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A made-up collection in the UCI format: long enough texts for Rspamd to learn.
    collection = tmp_path / "sms-spam-collection"
    collection.mkdir()
    (collection / "SMSSpamCollection").write_text("".join(
        f"spam\tWINNER {n}! You have won a free prize worth {n} pounds, call now to claim "
        f"your cash reward today before it expires\n"
        f"ham\tHi {n}, are we still meeting at the station at six tonight? I will bring "
        f"the tickets and we can eat after the film\n" for n in range(20)))
    rows = _rows(monkeypatch, datasets=tmp_path)
    learnt = _named(rows, ": UCI SMS texts Bayes learnt (of 40)")
    assert learnt and int(learnt[0]) > 0
    for part in ("/checkv2 at saturation", "/checkv2 at 70%", "spimguard /v1/check ÷ Rspamd",
                 "spimguard /v1/check (SQLite) at 70%"):
        assert _named(rows, part), part
