from __future__ import annotations

from conftest import engine, message


def rules(**settings: object):  # type: ignore[no-untyped-def]
    """An engine whose verdicts come from the rules alone."""
    return engine(detectors={"rules": settings, "content": {"enabled": False}})


def test_deny_phrase_catches_disguises() -> None:
    e = rules(deny_phrases=["free ringtones"])
    for i, text in enumerate(["FREE RINGTONES!!", "fr33 r1ngt0nes", "frее ringtоnes",
                              "fr\u200bee ringtones"]):
        verdict = e.process(message(e.config, f"m{i}", "a", ["b"], text))
        assert [s.code for s in verdict.signals] == ["RULE_DENY_PHRASE"], text
        assert verdict.action == "hold"
    clean = e.process(message(e.config, "ok", "a", ["b"], "are you free tonight?"))
    assert clean.action == "deliver"


def test_re2_patterns_and_bad_pattern_disables_detector() -> None:
    e = rules(deny_patterns=[r"ring\s*tones?\s+for\s+\$?\d+"])
    verdict = e.process(message(e.config, "m", "a", ["b"], "RINGTONES for $5 today"))
    assert verdict.signals[0].code == "RULE_DENY_PATTERN"
    broken = rules(deny_patterns=["(unclosed"])
    assert "rules" in broken.disabled and "unclosed" in broken.disabled["rules"]
    assert broken.process(message(broken.config, "m", "a", ["b"], "hi")).action == "deliver"
    lookahead = rules(deny_patterns=["(?=x)"])  # a backtracking construct RE2 refuses
    assert "rules" in lookahead.disabled


def test_deny_domain_matches_every_subdomain_and_overrides() -> None:
    e = rules(deny_domains=["tones.example.com"], allow_accounts=["a"])
    hit = e.process(message(e.config, "m1", "a", ["b"], "go to https://x.y.tones.example.com/p"))
    assert hit.action == "block"
    assert {s.code for s in hit.signals} == {"RULE_DENY_DOMAIN", "RULE_ALLOW_ACCOUNT"}
    miss = e.process(message(e.config, "m2", "a", ["b"], "go to https://example.com/tones"))
    assert miss.action == "deliver"


def test_deny_and_allow_accounts() -> None:
    e = rules(deny_accounts=["spammer"], allow_accounts=["bot"], deny_phrases=["buy"])
    assert e.process(message(e.config, "m1", "spammer", ["b"], "hello")).action == "block"
    assert e.process(message(e.config, "m2", "bot", ["b"], "buy now")).action == "deliver"


def test_unknown_setting_disables_detector_with_reason() -> None:
    e = rules(deny_frases=["x"])
    assert "deny_frases" in e.disabled["rules"]
