"""Detector settings are frozen classes built from config: an unknown key still fails at
start-up with the message operators know, and code reads names the class defines."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

from conftest import engine
from spimguard.detectors import BUILDERS
from spimguard.detectors.base import settings
from spimguard.detectors.rules import RulesSettings
from spimguard.detectors.takeover import TakeoverSettings
from spimguard.errors import ConfigError

DETECTORS = Path(__file__).parent.parent / "src" / "spimguard" / "detectors"


def test_a_misspelt_or_mistyped_key_fails_with_the_same_message() -> None:
    with pytest.raises(ConfigError) as misspelt:
        settings("takeover", TakeoverSettings, {"max_sesions": 9})
    assert str(misspelt.value) == "detectors.takeover.max_sesions is not a setting of takeover"
    with pytest.raises(ConfigError) as mistyped:
        settings("takeover", TakeoverSettings, {"max_sessions": "9"})
    assert str(mistyped.value) == \
        "detectors.takeover.max_sessions = '9' does not fit (default 8)"
    with pytest.raises(ConfigError) as listed:
        settings("rules", RulesSettings, {"deny_phrases": [1]})
    assert str(listed.value) == "detectors.rules.deny_phrases = [1] does not fit (default [])"
    # Through the engine: the detector is left out, saying why (as before).
    judge = engine(detectors={"takeover": {"max_sesions": 9}})
    assert judge.disabled["takeover"] == \
        "detectors.takeover.max_sesions is not a setting of takeover"


def test_a_key_a_release_retired_is_logged_and_ignored_not_refused(
        caplog: pytest.LogCaptureFixture) -> None:
    """The config an operator ran session 23's release with names the relationship
    detector's ``remember_days`` and ``cap``: refused, the detector would be left out on
    the upgrade. A misspelling of a live key still fails (above)."""
    judge = engine(detectors={"relationship": {"remember_days": 90, "cap": 500,
                                               "max_people": 4}})
    assert "relationship" not in judge.disabled
    found = next(d for d in judge.detectors if d.name == "relationship")
    assert found.cfg.max_people == 4
    assert "detectors.relationship.remember_days is no longer a setting" in caplog.text
    with pytest.raises(ConfigError):
        settings("relationship", type(found.cfg), {"remember": 90})


def test_settings_are_frozen_and_lists_become_tuples() -> None:
    cfg = settings("rules", RulesSettings, {"deny_phrases": ["free gift"], "max_patterns": 5})
    assert cfg.deny_phrases == ("free gift",) and cfg.max_patterns == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_patterns = 6  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):  # slotted: no stray attribute either
        object.__setattr__(cfg, "max_patterns_", 6)


def _reads(source: str) -> set[str]:
    """The names read off ``cfg`` or ``self.cfg`` in a module (its own settings)."""
    return {node.attr for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and (
                (isinstance(node.value, ast.Name) and node.value.id == "cfg")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "cfg"
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"))}


def _foreign_reads(source: str) -> set[str]:
    """The names read off another object's ``cfg`` (``self.takeover.cfg.x``, ``other.cfg.x``)."""
    return {ast.unparse(node) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "cfg"
            and not (isinstance(node.value.value, ast.Name) and node.value.value.id == "self")}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_no_detector_reads_another_detectors_settings(name: str) -> None:
    """A number that changes a verdict is its detector's setting alone: another detector
    asks that detector (``TakeoverDetector.established``, ``conversing``), so the number
    is read, documented and validated in one place."""
    path = DETECTORS / f"{name}.py"
    paths = [path] if path.exists() else sorted((DETECTORS / name).glob("*.py"))
    assert not set().union(*(_foreign_reads(p.read_text()) for p in paths))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_setting_read_in_code_is_a_field(name: str) -> None:
    """What mypy would say, without running the line: a misspelt read names no field."""
    module = importlib.import_module(f"spimguard.detectors.{name}")
    (kind,) = (v for k, v in vars(module).items()
               if k.endswith("Settings") and dataclasses.is_dataclass(v))
    fields = {f.name for f in dataclasses.fields(kind)}
    path = DETECTORS / f"{name}.py"  # a module, or a package of them (takeover)
    paths = [path] if path.exists() else sorted((DETECTORS / name).glob("*.py"))
    reads = set().union(*(_reads(p.read_text()) for p in paths))
    assert reads and reads <= fields, reads - fields
