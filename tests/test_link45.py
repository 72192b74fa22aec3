"""A new link's judgement for less (link45): the brand match's near names looked up by a
word's length and ends, ``margin`` by ``map`` and ``reduce`` with a phrase only for a
feature that shows, a few small reads in ``shape``; every judgement as before
(``benchmarks/url_judge.py --digest``), and a hostile host's brand match bounded.

Bounds are counts of Python's opcodes (``sys.settrace``), never times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spimguard.errors import ConfigError
from spimguard.lookalike import fold
from spimguard.text import UrlFact, parse_url
from spimguard.urlmodel import features, scorer

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import url_judge

TREE = Path(__file__).resolve().parents[1]
BASE = "1841b11e"  # main as session 45 began: its brand match, read from the history
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _url(raw: str) -> UrlFact:
    url = parse_url(raw, explicit=True)
    assert url is not None
    return url


def _opcodes(fn: Callable[..., Any], *args: Any) -> int:
    """Python opcodes run by ``fn(*args)``, every frame it calls included."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return count


def _near_misses() -> list[str]:
    """Each brand's name one edit off in every way (a letter dropped, added, changed, two
    swapped), at both ends and in the middle, and those stretched toward a DNS label's
    63 letters."""
    out: list[str] = []
    for brand in features.BRANDS:
        for i in range(len(brand) + 1):
            out.append(brand[:i] + brand[i + 1:])
            out.append(brand[:i] + "x" + brand[i:])
            out.append(brand[:i] + "q" + brand[i + 1:])
            out.append(brand[:i] + brand[i + 1: i + 2] + brand[i: i + 1] + brand[i + 2:])
        out.append(brand + "a" * (63 - len(brand)))
        out.append("0" + brand.replace("o", "0").replace("l", "1"))
    return out


def test_a_words_near_names_are_those_sharing_its_ends_in_their_order() -> None:
    brands = features._brands()
    names = sorted(((k, b) for k, b in brands.exact.items() if len(k) >= 7),
                   key=lambda kb: (len(kb[0]), kb[0]))
    for word in {fold(w) for w in _near_misses()}:
        tried = [(k, b) for k, b in names if abs(len(k) - len(word)) <= 1
                 and (word[:2] == k[:2] or word[-2:] == k[-2:])]
        near = {*brands.heads.get((len(word), word[:2]), ()),
                *brands.tails.get((len(word), word[-2:]), ())}
        assert [(k, b) for _, k, b in sorted(near)] == tried, word


def test_the_model_refuses_an_artefact_short_of_a_feature_at_load() -> None:
    artefact = dict(scorer.bundled().artefact)
    artefact["coef"] = artefact["coef"][:-1]
    with pytest.raises(ConfigError, match="one number a feature"):
        scorer.UrlModel(artefact)


def test_margin_is_each_shares_sum_in_order_and_phrases_only_what_shows() -> None:
    model = scorer.bundled()
    for raw in ("https://paypal.com.secure-login.weebly.com/wp-content/login.php?id=1%20",
                "https://example.org/a/b", "http://192.168.1.7//x", "https://xn--pypal-4ve.tk/"):
        reading = scorer.read(_url(raw))
        seen = reading.shape
        z = model.intercept + model.tld.get(seen.tld, model.tld[scorer.OTHER_TLD])
        parts = []
        for name, value, mean, scale, w in zip(features.NAMES, seen.values, model.mean,
                                              model.scale, model.coef, strict=True):
            z += w * (value - mean) / scale
            if value and name in features.PHRASES:
                parts.append((w * (value - mean) / scale,
                              features.PHRASES[name].format(**seen.facts)))
        for weighed in (model._host_found(tuple(reading.pieces)),
                        [(model.path_words[w], w)
                         for w in dict.fromkeys(reading.path) if w in model.path_words]):
            if weighed:
                z += sum(w for w, _ in weighed)
        got, got_parts = model.margin(reading)
        assert got.hex() == z.hex() and got_parts[: len(parts)] == parts
    plain = scorer.read(_url("https://example.org/a/b"))
    model.margin(plain)
    # Base's loop ran 736 opcodes here (28 features, each asked of PHRASES); this, ~150.
    assert _opcodes(model.margin, plain) < 400


def _hostile_hosts() -> list[str]:
    """Hosts built to make the brand match slow: near misses of every brand as labels and
    hyphenated words, 63-letter labels, as many labels as a name holds, punycode and
    confusable (Cyrillic) letters."""
    misses = _near_misses()
    hosts = ["-".join(misses[i: i + 4])[:63] + ".example.tk" for i in range(0, len(misses), 4)]
    hosts.append(".".join(["steamcomunnitty"] * 15) + ".xyz")
    hosts.append(".".join([LETTERS[i % 26] * 63 for i in range(3)]) + ".com")
    hosts.append(".".join(["b" + "inance" * 10] * 3) + ".top")
    hosts.append("xn--pypal-4ve.xn--80ak6aa92e.com")
    hosts.append("раураl-secure.microsoft-0nline.com")
    return hosts


def test_a_hostile_hosts_brand_match_is_bounded_and_as_before(tmp_path: Path) -> None:
    hosts = _hostile_hosts()
    found = [features._host.__wrapped__(h[:253], ".".join(h[:253].split(".")[-2:]), False,
                                        "").brand for h in hosts]
    assert found.count("") < len(found) // 4  # near misses are caught
    features._brand_in(["warm"], "", True)
    worst = 0
    for h in hosts:
        words = [w for w in features._HOST_WORDS.split(h[:253]) if w][:32]
        for w in words:
            fold(w)
        worst = max(worst, _opcodes(features._brand_in, words, "x", True))
    # At most 32 words of at most 64 letters, each looked up, not looped over each name of
    # its length: 824 opcodes at worst here (base's loop: 2,666).
    assert worst < 1500
    archive = subprocess.run(["git", "-C", str(TREE), "archive", BASE, "src"],
                             capture_output=True, check=False)
    if archive.returncode:  # a copy without the history: the bound alone
        return
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    code = ("import json, sys\nfrom spimguard.urlmodel import features as f\n"
            "hosts = json.load(sys.stdin)\n"
            "print(json.dumps([f._host.__wrapped__(h[:253], '.'.join(h[:253].split('.')[-2:]),"
            " False, '').brand for h in hosts]))")
    base = subprocess.run([sys.executable, "-c", code], input=json.dumps(hosts), text=True,
                          capture_output=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path / "src")})
    assert json.loads(base.stdout) == found


def test_a_paths_script_and_folder_are_the_first_named() -> None:
    seen = scorer.read(_url("https://x.example/wp-admin/plugins/wp-content/a.PHP.aspx"))
    assert seen.shape.facts["cms_folder"] == "wp-content"
    assert seen.shape.facts["script_page"] == ".aspx"
    seen = scorer.read(_url("https://x.example//a//b///c.phps"))
    assert seen.shape.facts["cms_folder"] == "" and seen.shape.facts["script_page"] == ""
    assert seen.shape.values[features.NAMES.index("path_depth")] == 3.0
    # No escape in the text: the text is the lower-cased path and query as they are.
    assert features.path_text(_url("https://x.example/A%2FB/C?Q=%41")) == "/a/b/c q=a"
    assert features.path_text(_url("https://x.example/A/B?Q=1")) == "/a/b q=1"
    plain = _url("https://example.org/news/2020/story-of-things.html?a=1")
    features.shape(plain)  # its host's features cached
    # A path naming no script and no folder asks no generator of either: 801 opcodes
    # (base: 1,010).
    assert _opcodes(features.shape, plain) < 900


def test_the_benchmarks_opcode_split() -> None:
    urls = [_url(f"https://site{n}.example/p/login{n}.php") for n in range(110)]
    rows = url_judge.opcodes(urls)
    assert rows[0][0] == "opcodes a new link (10 links)"
    assert float(rows[0][1].replace(",", "")) > 100
    assert any(name.strip().endswith(":shape") for name, _ in rows[1:])
