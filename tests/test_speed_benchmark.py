"""The speed benchmark runs end to end on a tiny load (a smoke: no figure is asserted,
``benchmarks/speed.py`` prints them). The Rspamd half runs only where Rspamd is
installed: CI does not install it."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _rows(monkeypatch: pytest.MonkeyPatch, **options: object) -> dict[str, str]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import speed

    rows = speed.main(seconds=0.3, users=40, days=1, **options)
    assert all(value for _, value in rows)
    return dict(rows)


def _named(rows: dict[str, str], part: str) -> list[str]:
    return [value for name, value in rows.items() if part in name]


def test_the_load_never_sends_an_id_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its end the load goes round under new ids and later times: a repeated id
    would be answered from the log, not judged."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import api

    bodies = [msgspec.json.encode({"type": "message", "id": f"e{n}", "ts": 100.0 + n,
                                   "sender": "a", "recipients": ["b"], "text": "hi"})
              for n in range(3)]
    load = api.messages("/v1/check", bodies)
    sent = [msgspec.json.decode(load.take().partition(b"\r\n\r\n")[2]) for _ in range(8)]
    assert len({m["id"] for m in sent}) == 8
    assert [m["ts"] for m in sent] == sorted(m["ts"] for m in sent)
    assert [m["text"] for m in sent] == ["hi"] * 8
    assert load.laps == 8 / 3


def test_speed_benchmark_prints_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(monkeypatch, with_rspamd=False)
    for part in ("spimguard /v1/check (SQLite) at saturation",
                 "spimguard /v1/check (SQLite) at 70%", "/v1/check ÷ /healthz",
                 "engine, SQLite backend"):
        assert _named(rows, part), part
    slow = _named(rows, "took over 10 ms, %")
    assert slow and all(0 <= float(share) <= 100 for share in slow[0].split(" / "))
    sent, judged = _named(rows, "requests sent / judged as new messages")[0].split(" / ")
    assert sent == judged  # every check judged, none answered from the log


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
