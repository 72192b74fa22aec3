"""mod_spimguard's stanza reading and clipping (spimguard_content.lib.lua), fuzzed.

Hypothesis builds hostile messages (many bodies and subjects in odd languages,
nested XHTML-IM, OOB data, any Unicode that XML allows) and long ids; Lua 5.4 runs
the module's own code with Prosody's own XML parser and JSON encoder
(``tests/prosody_content.lua``), and the properties below check what would reach
spimguard: valid JSON and UTF-8, within the contract's bounds, every part present
when it fits and a fair share of each when it does not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prosody_harness

PROSODY = Path("/usr/lib/prosody")
DRIVER = Path(__file__).with_name("prosody_content.lua")
MAX_ID = 512
XHTML_IM, XHTML = "http://jabber.org/protocol/xhtml-im", "http://www.w3.org/1999/xhtml"
SPACE = " \t\n\r\f\v"  # Lua's %s, what the module strips



@pytest.fixture(scope="module", autouse=True)
def lua() -> str:
    """Lua 5.4 and Prosody's libraries come with Debian's Prosody package."""
    prosody_harness.ensure_installed()
    found = shutil.which("lua5.4")
    assert found, "lua5.4 should come with Debian's prosody package"
    return found

# Any character XML 1.0 allows in text, except newlines (they separate the parts
# in the joined text, which the fair-share property reads back).
chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                      exclude_characters="\ufffe\uffff") | st.sampled_from(["\t", " ", "&", "<"])
long_runs = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "日", "\U0001f600"]),
                      st.integers(50, 400))
texts = st.text(chars, max_size=300) | long_runs
langs = st.sampled_from(["", "en", "de-CH", "x-" + "l" * 200, "\u202e", "a b", "zh-Hant"])
parts = st.one_of(
    st.tuples(st.just("body"), langs, texts),
    st.tuples(st.just("subject"), langs, texts),
    st.tuples(st.just("xhtml"), st.integers(0, 300).map(str), texts),
    st.tuples(st.just("oob"), st.just(""), texts),
)


def element(kind: str, extra: str, text: str) -> str:
    if kind in ("body", "subject"):
        return f"<{kind} xml:lang={quoteattr(extra)}>{escape(text)}</{kind}>"
    if kind == "xhtml":
        depth = int(extra)
        return (f"<html xmlns='{XHTML_IM}'><body xmlns='{XHTML}'>" + "<span>" * depth
                + escape(text) + "</span>" * depth + "</body></html>")
    return f"<x xmlns='jabber:x:oob'><url>{escape(text)}</url></x>"


def run(xml: str, budget: int, ids: list[str]) -> dict[str, object]:
    """What the module's code makes of a message; strict JSON and UTF-8 decoding."""
    done = subprocess.run(["lua5.4", str(DRIVER), str(prosody_harness.MODULE_DIR), str(PROSODY)],
                          input=json.dumps({"xml": xml, "budget": budget, "ids": ids}).encode(),
                          capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    answer: dict[str, object] = json.loads(done.stdout.decode("utf-8"))
    return answer


def message(items: list[tuple[str, str, str]]) -> str:
    return ("<message xmlns='jabber:client' to='bob@spim.test' type='chat'>"
            + "".join(element(*item) for item in items) + "</message>")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(parts, max_size=25), st.integers(0, 3000) | st.integers(0, 200))
def test_every_rendered_part_reaches_the_text_within_the_budget(
        items: list[tuple[str, str, str]], budget: int) -> None:
    out = run(message(items), budget, [])
    found: list[str] = list(out["parts"] or [])  # type: ignore[call-overload]
    text = str(out["text"])
    for kind, _, raw in items:  # every non-blank part is read, stripped as the module does
        if raw.strip(SPACE) and kind != "xhtml":
            assert raw.strip(SPACE) in found, (kind, raw)
        elif raw.strip(SPACE):
            assert any(raw.strip(SPACE) in part for part in found), raw
    assert len(found) == len(set(found))  # identical parts count once
    assert len(text.encode()) <= budget
    n = min(len(found), (budget + 1) // 2)
    if sum(len(p.encode()) for p in found) + len(found) - 1 <= budget:
        assert text == "\n".join(found)
    elif n:
        share = (budget - (n - 1)) // n  # the least any part gets, before the UTF-8 cut
        judged = text.split("\n")
        assert len(judged) == n
        for part, got in zip(found, judged, strict=False):
            assert part.startswith(got)
            assert len(got.encode()) >= min(len(part.encode()), share) - 3


@settings(max_examples=100, deadline=None)
@given(st.text(chars, max_size=1000) | st.builds(
           lambda c, n: c * n, st.sampled_from(["x", "é", "日"]), st.integers(100, 1100)),
       st.lists(st.text(chars, max_size=100), min_size=1, max_size=8, unique=True))
def test_ids_fit_the_contract_and_stay_distinct(prefix: str, suffixes: list[str]) -> None:
    """Ids sharing a long beginning (two sessions' 1,023-byte resources) stay apart."""
    values = [prefix + suffix for suffix in suffixes]
    fitted = [str(v) for v in run(message([]), 0, values)["ids"]]  # type: ignore[union-attr]
    for value, fit in zip(values, fitted, strict=True):
        assert len(fit) <= MAX_ID and len(fit.encode()) <= MAX_ID
        if len(value.encode()) <= MAX_ID:
            assert fit == value
        else:
            assert fit.startswith(fit.split("#")[0]) and value.startswith(fit.rsplit("#", 1)[0])
    assert len(set(fitted)) == len(values)


def test_a_huge_resource_keeps_its_beginning_and_a_hash() -> None:
    resource = "MobileFunster." + "é" * 600
    fit = str(run(message([]), 0, [resource])["ids"][0])  # type: ignore[index]
    assert fit.startswith("MobileFunster.éé") and len(fit.encode()) <= MAX_ID
    assert len(fit.rsplit("#", 1)[1]) == 64


OMEMO_FALLBACK = ("I sent you an OMEMO encrypted message but your client doesn't seem to "
                  "support that.")


@pytest.mark.parametrize(("encryption", "size"), [
    (f"<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>a2V5"
     f"</key><iv>aXY=</iv></header><payload>{'A' * 96}</payload></encrypted>", 96),
    (f"<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='bob@spim.test'>"
     f"<key rid='2'>a2V5</key></keys></header><payload>{'B' * 40}</payload></encrypted>", 40),
    (f"<openpgp xmlns='urn:xmpp:openpgp:0'>{'C' * 300}</openpgp>", 300),
    (f"<x xmlns='jabber:x:encrypted'>{'D' * 12}</x>", 12),
])
def test_omemo_and_openpgp_messages_are_marked_encrypted_with_their_size(
        encryption: str, size: int) -> None:
    out = run("<message xmlns='jabber:client' to='bob@spim.test' type='chat'>"
              f"<body>{OMEMO_FALLBACK}</body>{encryption}</message>", 1000, [])
    assert out["sealed"] == size


def test_plain_and_key_transport_messages_are_not_marked_encrypted() -> None:
    assert "sealed" not in run(message([("body", "", "hi bob")]), 1000, [])
    transport = ("<message xmlns='jabber:client' to='bob@spim.test'><encrypted "
                 "xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>a2V5</key>"
                 "<iv>aXY=</iv></header></encrypted></message>")
    assert "sealed" not in run(transport, 1000, [])  # keys only: nothing shown, no message
