from __future__ import annotations

import json
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from conftest import T0
from spimguard.cli import app

runner = CliRunner()


def test_check_prints_a_verdict(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[detectors.rules]\ndeny_phrases = ["free ringtones"]\n')
    result = runner.invoke(app, ["check", "FR33 ringt0nes!", "--sender", "a", "--recipient", "b",
                                 "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["action"] in ("hold", "block")
    assert "RULE_DENY_PHRASE" in {s["code"] for s in verdict["signals"]}


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[policy]\nwarn = 9\nhold = 3\n")
    result = runner.invoke(app, ["check", "hi", "--recipient", "b", "--config", str(cfg)])
    assert result.exit_code == 2 and "thresholds must rise" in result.output


def test_replay_writes_verdicts_and_prints_scorecard(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    lines = [{"type": "contacts", "id": "c", "ts": T0, "account": "alice", "contacts": ["bob"]}]
    for i in range(40):
        lines.append({"type": "message", "id": f"s{i}", "ts": T0 + i, "sender": "bot",
                      "recipients": [f"u{i}"], "text": "cheap tones", "label": "spam"})
        lines.append({"type": "message", "id": f"h{i}", "ts": T0 + i, "sender": "alice",
                      "recipients": ["bob"], "text": "lunch?", "label": "ham"})
    log.write_bytes(b"\n".join(msgspec.json.encode(line) for line in lines) + b"\n")
    out = tmp_path / "verdicts.jsonl"
    result = runner.invoke(app, ["replay", str(log), "--out", str(out)])
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(verdicts) == len(lines)
    assert "replay scorecard" in result.stdout and "VELOCITY_STRANGERS" in result.stdout
    second = tmp_path / "again.jsonl"
    runner.invoke(app, ["replay", str(log), "--out", str(second)])
    assert second.read_text() == out.read_text()


def test_replay_rejects_a_bad_line_by_number(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text('{"type": "login", "id": "l", "ts": 1, "account": "a"}\n{"type": "nope"}\n')
    result = runner.invoke(app, ["replay", str(log), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "line 2" in result.output


def test_bench_names_what_it_can_run() -> None:
    result = runner.invoke(app, ["bench", "nope"])
    assert result.exit_code == 2
    assert "no benchmark nope" in result.output and "engine" in result.output
