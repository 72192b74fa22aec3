from __future__ import annotations

import random

from spimguard.text import masked, masked_for, names_of, view


def test_disguises_fold_to_one_skeleton() -> None:
    plain = view("free ringtones").skeleton
    assert view("FR33 R1NGT0NES").skeleton == plain
    assert view("frее ringtоnes").skeleton == plain  # Cyrillic е and о
    assert view("fr\u200bee ring\u200dtones").skeleton == plain  # zero-width characters
    assert view("ｆｒｅｅ　ｒｉｎｇｔｏｎｅｓ").skeleton == plain  # full-width forms (NFKC)
    assert view("frée ríngtones").skeleton == plain  # accents
    assert view("\u202eeerf\u202c ringtones").skeleton == plain  # drawn right to left
    assert view("\u2067free\u2069 ringtones").skeleton == plain  # an isolate: order kept


def test_numbers_are_not_leet_folded() -> None:
    assert view("call 0800 123 456").skeleton == "call 0800 123 456"


def test_tokens_any_script() -> None:
    assert view("Привет, как дела?").tokens == ("привет", "как", "дела")
    tokens = view("你好世界 😀").tokens
    assert "你好" in tokens and "世" in tokens and "😀" in tokens


def test_urls_explicit_bare_spaced_and_idn() -> None:
    urls = view("see https://login.live.com.verify-acct.co.uk/x?y=1 and shop.ringtones.biz, "
                "also promo dot com and bit[.]ly/abc").urls
    assert [u.domain for u in urls] == ["verify-acct.co.uk", "ringtones.biz", "promo.com",
                                        "bit.ly"]
    assert urls[0].explicit and not urls[1].explicit
    assert [u.domain for u in view("get them at ringtones dot com").urls] == ["ringtones.com"]
    assert urls[0].path == "/x" and urls[0].query == "y=1"
    idn = view("pаypal.com").urls[0]  # Cyrillic а
    assert idn.host.startswith("xn--") and idn.host_unicode == "pаypal.com"
    trick = view("https://live.com@evil.com/login").urls[0]
    assert trick.domain == "evil.com" and trick.userinfo == "live.com"
    assert view("http://10.1.2.3:8080/x").urls[0].is_ip
    assert view("the file is notes.txt and e.g. this").urls == ()
    assert view("http://login.corp.internal/x").urls[0].domain == "login.corp.internal"


def test_fingerprint_survives_personalisation() -> None:
    a = view("Hi Bob, your 2 free ringtones: https://tones.example.com/r?u=184 @bob")
    b = view("Hi Bob, your 7 free ringtones: https://tones.example.com/r?u=991 @amy")
    c = view("Completely different text")
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_masked_for_is_the_views_masked_form_with_the_names() -> None:
    """A recipient's name that the text never greets changes nothing (the view's own
    masked form, computed once); one that appears only once another name is masked
    (``name`` in " <name> ") still counts, as in the replacements one after another."""
    rng = random.Random(5)
    words = ["bob", "name", "hi", "alice", "ann", "<name>", "call", "12", "@bob", "b0b",
             "a.com", "www.b.org/x"]
    for _ in range(2000):
        v = view(" ".join(rng.choice(words) for _ in range(rng.randint(0, 8))))
        names = tuple(rng.sample(["bob", "name", "ann", "zed", "ame"], rng.randint(0, 3)))
        assert v.masked == masked(v.prose_skeleton, v.domains)
        assert masked_for(v, names) == masked(v.prose_skeleton, v.domains, names)
    # "name" counts once "bob" is gone:
    assert masked_for(view("hi bob"), ("bob", "name")) == "hi < <name> >"


def test_an_id_whose_skeleton_is_short_masks_nothing() -> None:
    """An id of spaces or marks has an empty skeleton, which "occurs" between every two
    characters: taken as a name it masked any text beyond recognition (a recipient list
    an attacker chooses would scatter its pitch's copies across clusters)."""
    names = names_of(["   ", "  a", " \t ", "bob"])
    assert names == ("bob",)
    pitch = view("cheap ringtones at tones.example, bob")
    assert masked(pitch.prose_skeleton, pitch.domains, names) == masked(
        pitch.prose_skeleton, pitch.domains, names_of(["bob"]))
    assert "<" not in masked(view("cheap ringtones").prose_skeleton, (), names)
