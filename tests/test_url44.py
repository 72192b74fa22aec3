"""A new link's judgement by the URL model read once a link and a host once a campaign
(url44): the hosting services and the path's text read once for the three readers, a
host's features and weighed words cached, a piece's words found forward; every feature,
fact and margin as before (``benchmarks/url_judge.py --digest`` over 30,252 links)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spimguard.text import UrlFact, parse_url
from spimguard.urlmodel import features, scorer, words

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import url_judge


def _url(raw: str) -> UrlFact:
    url = parse_url(raw, explicit=True)
    assert url is not None
    return url


def _counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str,
             calls: list[tuple[Any, ...]]) -> None:
    real: Callable[..., Any] = getattr(module, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


def test_a_link_is_read_for_its_services_and_path_text_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts: list[tuple[Any, ...]] = []
    found: list[tuple[Any, ...]] = []
    for module in (features, words, scorer):
        for name, calls in (("path_text", texts), ("services", found)):
            if hasattr(module, name):
                _counted(monkeypatch, module, name, calls)
    seen = scorer.read(_url("https://nitro-gift.weebly.com/secure/login.php?id=7"))
    assert len(texts) == 1 and len(found) == 1
    assert seen.shape.facts["free_host"] == "weebly.com" and seen.pieces == ["nitro", "gift"]


def test_services_finds_every_kind_in_one_pass() -> None:
    assert features.services("x.weebly.com", "/a") == {"free": "weebly.com"}
    assert features.services("weebly.com", "") == {}  # the service's own home page
    assert features.services("docs.google.com", "/forms/d/e/1/viewform") == {
        "form": "docs.google.com/forms"}
    assert features.services("a.duckdns.org", "") == {"dyn": "duckdns.org"}
    assert features.service("docs.google.com", "/forms/d") == ("form", "docs.google.com")
    assert features.service("example.org", "/x") == ("", "")


def test_a_campaigns_copies_read_their_host_once(monkeypatch: pytest.MonkeyPatch) -> None:
    features._host.cache_clear()
    calls: list[tuple[Any, ...]] = []
    _counted(monkeypatch, features, "_brand_in", calls)
    host = "https://paypal-verify.secure-update.xyz/account/login?r="
    first = features.shape(_url(host + "a81c0f"))
    second = features.shape(_url(host + "77e2d9"))
    in_host = [args for args in calls if args[0] and args[0][0] == "paypal"]
    assert len(in_host) == 1
    assert first.values == second.values and first.facts == second.facts
    assert first.facts["brand_in_host"] == "paypal"


def test_a_hosts_weighed_words_are_found_once_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    model = scorer.load(None)
    calls: list[tuple[Any, ...]] = []
    _counted(monkeypatch, words, "segment", calls)
    for code in ("a1", "b2", "c3"):
        model.judge(_url(f"https://freenitrogift-claim.com/x?r={code}"))
    assert len(calls) == len(scorer.read(_url("https://freenitrogift-claim.com/")).pieces)


@pytest.mark.parametrize(("piece", "vocabulary", "expected"), [
    # Two spellings of two words: the one whose last word starts first is kept.
    ("abcdefghijkl", {"abcd", "efghijkl", "abcdefgh", "ijkl"}, ["abcd", "efghijkl"]),
    ("freenitrogift", {"free", "nitro", "gift", "freenitro", "nitrogift"}, ["free", "nitrogift"]),
    ("freenitrogift", {"free", "nitro", "gift"}, ["free", "nitro", "gift"]),
    ("informatik", {"form", "info"}, []),  # a word inside a name that reads as none
    ("abcdabcdabcd", {"abcd", "abcdabcd"}, ["abcd", "abcdabcd"]),
])
def test_segment_keeps_its_choice_among_equal_spellings(
        piece: str, vocabulary: set[str], expected: list[str]) -> None:
    assert words.segment(piece, vocabulary) == expected
    assert "".join(expected) in ("", piece)


def test_a_long_path_keeps_each_readers_own_text() -> None:
    """The features read the services against the path's ends, the words against its
    first ``MAX_PATH`` characters: for a longer path, not the same text."""
    url = _url("https://weebly.com/" + "/" * 600 + "a" * 200 + "/" * 600)
    seen = scorer.read(url)
    assert seen.shape == features.shape(url)
    assert seen.pieces == words.host_pieces(url, scorer._BRANDS)
    assert seen.path == words.path_words(url)
    assert seen.shape.facts["free_host"] == ""
    assert features.service(url.host, url.path[:features.MAX_PATH].lower())[0] == "free"


def test_the_benchmarks_copies_and_hostile_forms() -> None:
    plain = [_url(f"https://site{n}.example/p/{n}") for n in range(30)]
    copies = url_judge.copies(plain, 20, 10)
    assert len(copies) == 20 and len({u.raw for u in copies}) == 20
    assert {u.host for u in copies} == {"site0.example", "site1.example"}
    forms = url_judge.hostile(plain)
    assert len(forms) > 2 * len(url_judge.FORMS)
    assert any(u.is_ip for u in forms) and any(u.userinfo for u in forms)
    assert any(len(u.path) > features.MAX_PATH for u in forms)
