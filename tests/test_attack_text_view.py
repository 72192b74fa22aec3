"""Red team: text the reader sees that the text view does not (session 11).

``text.clean`` strips a hand-made list of invisible characters. Unicode names the set a
renderer must not show (Default_Ignorable_Code_Point), and twelve assigned code points of it
are missing from the list: U+1BCA0..U+1BCA3 (shorthand format controls) and U+1D173..U+1D17A
(musical beam and phrase controls). One of them after every letter leaves the message as
the reader sees it and turns a pitch the content model blocks into one it warns about.

Links: hosts are read as ASCII dots only, so a link written the way a browser's host parser
(WHATWG URL, UTS #46) still resolves reaches no detector, not even the operator's deny list:
U+3002 and U+FF61 are label separators, a bare dotted quad with a path is what linkifiers
link, and a host of one decimal number is an IPv4 address.

The rules these tests hold the code to: every Default_Ignorable_Code_Point is removed before
anything is matched; a host is read as a browser's host parser reads it. Closed in session
12 (``text.clean`` takes the property from ``regex``; ``text.read_host`` reads hosts the
WHATWG way, for the links and the operator's lists alike); the tests after the first three
are the next tries an attacker would make.
"""

from __future__ import annotations

import pytest

from conftest import T0, config, event, message
from spimguard import lists, open_engine
from spimguard.text import view
from test_links import codes, links_engine, lists_write

PITCH = "FREE entry! WIN a cash prize of $5000, text WIN to 80086 now, claim your prize today"
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt) that are assigned and that
# ``text.clean`` kept.
KEPT_IGNORABLES = [*range(0x1BCA0, 0x1BCA4), *range(0x1D173, 0x1D17B)]


def behind_every_letter(text: str, mark: str) -> str:
    return "".join(c + mark if c.isalpha() else c for c in text)


@pytest.mark.parametrize("point", KEPT_IGNORABLES, ids=lambda p: f"U+{p:04X}")
def test_default_ignorable_characters_are_not_read(point: int) -> None:
    disguised = view(behind_every_letter(PITCH, chr(point)))
    plain = view(PITCH)
    assert (disguised.skeleton, disguised.fingerprint) == (plain.skeleton, plain.fingerprint)


def test_a_pitch_behind_ignorable_characters_is_judged_as_the_pitch() -> None:
    engine = open_engine(config())
    cfg = engine.config
    verdicts = []
    for i, text in enumerate([PITCH, behind_every_letter(PITCH, "\U0001d173")]):
        engine.process(event(cfg, type="account", id=f"a{i}", ts=T0, account=f"bot{i}",
                             created=T0 - 600))
        verdicts.append(engine.process(message(cfg, f"m{i}", f"bot{i}", [f"stranger{i}"],
                                               text, T0 + i)))
    assert verdicts[0].action == "block"  # the premise
    assert verdicts[1].action == "block", verdicts[1].signals


@pytest.mark.parametrize(("written", "domain"), [
    ("tones-shop\u3002com/new", "tones-shop.com"),
    ("tones-shop\uff61com/new", "tones-shop.com"),
    ("95.141.32.7/login", "95.141.32.7"),
    ("http://1603084295/login", "95.141.32.7"),
])
def test_links_are_read_as_a_browser_reads_them(written: str, domain: str) -> None:
    assert domain in view(f"new ringtones every week: {written}").domains


@pytest.mark.parametrize("point", [KEPT_IGNORABLES[0], 0x200B, 0xE0041],
                         ids=lambda p: f"U+{p:04X}")
def test_an_ignorable_character_inside_a_host_is_not_read(point: int) -> None:
    mark = chr(point)
    for written in (f"tones{mark}-shop.com/new", f"https://tones-shop{mark}.com/new",
                    f"tones-shop{mark}\u3002com/new", f"95.141{mark}.32.7/login"):
        assert view(f"ringtones: {written}").domains in (("tones-shop.com",),
                                                          ("95.141.32.7",)), written


def test_an_ignorable_character_between_a_letter_and_its_accent_is_not_read() -> None:
    """Removed before NFKC, so the letter and its accent compose as if it were not there:
    the words the model reads are the words the reader sees."""
    assert view("caf\u200be\U0001d173\u0301 gratuit").text == view("café gratuit").text \
        == "café gratuit"


def test_a_scripts_own_marks_are_kept() -> None:
    """Only what Unicode calls ignorable goes: Thai vowels and tone marks, Devanagari matras
    and Hebrew points are how those scripts write words (dropping every combining mark once
    cost the model a fifth of its Thai AUC)."""
    for words in ("สวัสดีครับ ส่งข้อความฟรี", "मुफ़्त रिंगटोन", "שָׁלוֹם"):
        assert view(words).skeleton == " ".join(words.split())


@pytest.mark.parametrize("written", [
    "tones-shop\u3002example\uff0ecom/new",  # mixed separators
    "tones-shop\uff61example.com/new",
    "www\u3002tones-shop\u3002example\u3002com",
    "tones-shop.example\u3002com.",  # trailing dot
    "https://tones-shop.example.com./new",
    "TONES-SHOP\u3002EXAMPLE\u3002COM/new",
])
def test_every_label_separator_a_browser_reads(written: str) -> None:
    (url,) = view(f"new ringtones every week: {written}").urls
    assert (url.host.removeprefix("www."), url.domain) == ("tones-shop.example.com",
                                                           "example.com"), written


@pytest.mark.parametrize("written", [
    "http://0x5f.0x8d.0x20.0x7/login",  # hex
    "http://0137.0215.040.07/login",  # octal
    "http://0x5f.141.040.7/login",  # mixed
    "http://95.141.8199/login",  # three parts: the last fills two bytes
    "http://95.9248775/login",  # two parts
    "http://0x5f8d2007/login",  # one hex number
    "http://95.141.32.7./login",  # trailing dot
    "95\u3002141\uff0e32\uff617/login",  # bare, ideographic separators
    "http://1603084295\u3002/login",
    pytest.param("http://" + "0" * 40 + "137.0215.040.07/login", id="40 leading zeros"),
])
def test_every_ipv4_form_is_the_address(written: str) -> None:
    (url,) = view(f"log in: {written}").urls
    assert (url.host, url.domain, url.is_ip) == ("95.141.32.7", "95.141.32.7", True)


@pytest.mark.parametrize("written", [
    "http://256.141.32.7/login", "http://95.141.32.256/login", "http://95.141.65536/login",
    "http://95.16777216/login", "http://4294967296/login", "http://1.95.141.32.7/login",
    "http://0x1ff.1.1.1/login", "http://09.1.1.1/login",  # 9 is no octal digit
    pytest.param("http://" + "9" * 5000 + "/login", id="more digits than int reads"),
    "999.141.32.7/login", "http://example.123/login",
    "http://17/2026/02/10/cut-short",  # 0.0.0.17: no page is served in 0.0.0.0/8
])
def test_a_host_that_ends_in_a_number_but_is_no_address_is_no_link(written: str) -> None:
    """A browser refuses such a URL: there is nothing to judge, and nothing to fetch."""
    assert view(f"log in: {written}").urls == ()


def test_numbers_that_are_not_links_stay_prose() -> None:
    for prose in ("update to 1.2.3.4 tonight", "version 10.0.19045.3803 is out",
                  "scores 95.141.32.7 and 8", "今天天气很好。我们去公园吧", "ありがとう。みんな",
                  "我用Google。Apple，很好"):
        assert view(prose).urls == (), prose


def test_idn_and_punycode_hosts_are_read_through_any_separator() -> None:
    cyrillic = view("примеры\u3002рф/акция").urls[0]
    assert (cyrillic.host, cyrillic.host_unicode) == ("xn--e1afmkfd1f.xn--p1ai", "примеры.рф")
    assert view("xn--e1afmkfd1f\u3002xn--p1ai/x").domains == ("xn--e1afmkfd1f.xn--p1ai",)
    lookalike = view("p\u0430ypal\u3002com/login").urls[0]  # Cyrillic а
    assert lookalike.host == "xn--pypal-4ve.com"


def test_the_operators_deny_list_sees_every_form_of_a_host() -> None:
    """The list's entries are read as the links are: an entry written as one number, or with
    an ideographic full stop, is the host the messages' links name."""
    engine = links_engine()
    entries = lists.parse("95.141.32.7\ntones-shop\u3002com\n0x5f8d2008\n", "domains")
    assert entries == ["95.141.32.7", "tones-shop.com", "95.141.32.8"]
    engine.write_state([lists_write("block", entries)])
    for i, text in enumerate(["http://1603084295/login", "95\u3002141.32.7/login",
                              "http://0x5f.0x8d.0x20.0x8/x", "tones\U0001d173-shop\u3002com/new",
                              "https://www.tones-shop.com./new"]):
        verdict = engine.process(message(engine.config, f"m{i}", "a", ["b"], text))
        assert verdict.action == "block", (text, verdict.signals)
    assert "LINK_IP_HOST" in codes(engine, "see http://0x5f8d2009/login", "ip")


@pytest.mark.parametrize(("written", "host"), [
    ("http://%74ones-shop.com/new", "tones-shop.com"),  # percent-encoded letter
    ("http://tones-shop%2Ecom/new", "tones-shop.com"),  # percent-encoded dot
    ("http://tones-shop.com%E3%80%82/new", "tones-shop.com"),  # encoded U+3002
    ("http://%EF%BD%94ones-%E2%80%8Bshop.com/new", "tones-shop.com"),  # fullwidth, ZWSP
    ("http://tones-shop.com\\new", "tones-shop.com"),  # a backslash is a slash
    ("http://tones-shop.com\\@paypal.com/", "tones-shop.com"),
    ("http://[::ffff:5f8d:2007]/login", "95.141.32.7"),  # IPv4-mapped IPv6
    ("http://[0:0::FFFF:95.141.32.7]/login", "95.141.32.7"),
])
def test_a_host_is_read_after_what_a_browser_undoes(written: str, host: str) -> None:
    """Session 12's red team: the host parser decodes percent escapes and reads a backslash
    as a slash before it reads the host, and an IPv4-mapped IPv6 literal reaches the IPv4
    address; read as written, none of these reached the deny list."""
    (url,) = view(f"new ringtones every week: {written}").urls
    assert url.host == host, written


@pytest.mark.parametrize("written", [
    "http://%ff.com/new",  # no UTF-8
    "http://paypal.com%40evil.example/new",  # "@" is no host character
    "http://evil%2Fpaypal.com/new",
])
def test_a_percent_decoded_host_a_browser_refuses_is_no_link(written: str) -> None:
    assert view(f"new ringtones every week: {written}").urls == ()


def test_the_deny_list_sees_through_percent_escapes_and_backslashes() -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com", "95.141.32.7"])])
    for i, text in enumerate(["http://%74ones-shop.com/new", "http://tones-shop.com\\new",
                              "http://[::ffff:5f8d:2007]/login"]):
        verdict = engine.process(message(engine.config, f"m{i}", "a", ["b"], text))
        assert verdict.action == "block", (text, verdict.signals)


@pytest.mark.parametrize(("written", "domain"), [
    ("tones-shop\u3002\u4e2d\u56fd/new", "tones-shop.xn--fiqs8s"),  # .中国
    ("tones-shop\u3002\u5728\u7ebf:8080/new", "tones-shop.xn--3ds443g"),  # .在线, a port
    ("tones-shop\uff61\u307f\u3093\u306a/new", "tones-shop.xn--q9jyb4c"),  # .みんな
])
def test_a_cjk_top_level_domain_after_an_ideographic_full_stop(written: str,
                                                               domain: str) -> None:
    """Session 12's red team: a label in CJK after U+3002 was read as prose, so a host under
    one of the 74 CJK top-level domains, written with U+3002, was no link at all; with a
    path or port after it, it is the link a browser reads."""
    assert view(f"new ringtones every week: {written}").domains == (domain,)


def test_a_cjk_word_after_a_latin_one_stays_prose() -> None:
    for prose in ("他来自Beijing\u3002中国", "我用WeChat\u3002中国人/外国人都用"):
        assert view(prose).urls == (), prose


@pytest.mark.parametrize(("written", "as_written"), [
    ("\u8d2d\u7269tones-shop\u3002com/new", "xn--tones-shop-535xi36u.com"),  # 购物, U+3002
    ("\u8bf7\u770btones-shop.com", "xn--tones-shop-wr6yl05p.com"),  # 请看, an ASCII dot
])
def test_a_link_glued_to_cjk_prose_is_read_both_ways(written: str, as_written: str) -> None:
    """Session 12's red team: a link written against CJK prose was read with the CJK letters
    in its first label (and with U+3002 as the CJK's sentence end), so a deny list holding
    tones-shop.com missed it. A linkifier starts the link where the prose ends; a browser
    given the whole run reads it as written: both readings go to the link checks."""
    assert view(f"new ringtones: {written}").domains == ("tones-shop.com", as_written)


def test_prose_glued_to_a_link_stays_prose() -> None:
    """The linkifier's reading comes first, so the words around the link are still words;
    prose after a top-level domain ends it, and Thai (no spaces either) glues the same way."""
    glued = view("\u8bf7\u770btones-shop.com\u5f88\u597d")  # 请看tones-shop.com很好
    assert (glued.domains[0], glued.prose) == ("tones-shop.com", "\u8bf7\u770b \u5f88\u597d")
    thai = view("\u0e2a\u0e21\u0e31\u0e04\u0e23\u0e40\u0e25\u0e22line.me/x")  # สมัครเลยline.me/x
    assert thai.domains[0] == "line.me"
    assert view("hotlive.vip\u0e40\u0e15\u0e34\u0e21").domains == ("hotlive.vip",)
    # A label of CJK and Latin before U+3002 is one only with a path after the host.
    for prose in ("我用Google\u3002Apple，很好", "他来自Beijing\u3002中国"):
        assert view(prose).urls == (), prose


@pytest.mark.parametrize("entry", ["tones-shop.com", "xn--tones-shop-535xi36u.com"])
def test_the_deny_list_holding_either_reading_blocks_a_glued_link(entry: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", [entry])])
    verdict = engine.process(message(engine.config, "m", "a", ["b"],
                                     "\u8d2d\u7269tones-shop\u3002com/new"))
    assert verdict.action == "block", verdict.signals


@pytest.mark.parametrize(("written", "host", "userinfo"), [
    ("paypal.com@tones-shop.com/login", "tones-shop.com", "paypal.com"),
    ("www.paypal.com@tones-shop.com/login", "tones-shop.com", "www.paypal.com"),
    ("paypal.com:secure@tones-shop.com:8080/login", "tones-shop.com", "paypal.com:secure"),
    ("bob@tones-shop.com/login", "tones-shop.com", "bob"),
])
def test_a_bare_name_before_at_is_the_userinfo_of_the_host_after(written: str, host: str,
                                                                  userinfo: str) -> None:
    """Session 12's red team: a bare "paypal.com@evil.example/x" was read as a link to
    paypal.com; a browser given it goes to the host after the '@'."""
    (url,) = view(f"log in: {written}").urls
    assert (url.host, url.userinfo) == (host, userinfo), written


@pytest.mark.parametrize("written", [
    "paypal.com@evil.example/x",  # no known suffix after the '@': no bare link
    "paypal.com@tones-shop.com",  # no path: an e-mail address
    "jane.kim@gmail.com",  # ".kim" is a top-level domain; the name is no link
])
def test_the_name_before_at_is_never_a_link_of_its_own(written: str) -> None:
    assert view(f"write to {written} today").urls == (), written


def test_the_deny_list_sees_the_host_after_a_bare_userinfo() -> None:
    engine = links_engine()
    assert "LINK_USERINFO" in codes(engine, "verify now: paypal.com@tones-shop.net/login", "u")
    engine.write_state([lists_write("block", ["tones-shop.com"]),
                        lists_write("allow", ["paypal.com"])])
    verdict = engine.process(message(engine.config, "m", "a", ["b"],
                                     "verify now: paypal.com@tones-shop.com/login"))
    assert verdict.action == "block", verdict.signals


def test_a_wildcard_entry_on_the_deny_list_blocks_the_hosts_it_names() -> None:
    """Session 12's red team: "*.tones-shop.com", as blocklists write it, was kept as a host
    of its own that no link has, so every link under it was delivered."""
    entries = lists.parse("*.tones-shop.com\n", "domains")
    assert entries == ["tones-shop.com"]
    engine = links_engine()
    engine.write_state([lists_write("block", entries)])
    verdict = engine.process(message(engine.config, "m", "a", ["b"],
                                     "new hits at https://www.tones-shop.com/new"))
    assert verdict.action == "block", verdict.signals


# Blanks a reader reads as spaces: whitespace, and what is drawn as a blank but is none.
BLANKS = {"space": " ", "U+2800": "\u2800", "U+13430": "\U00013430", "U+1D159": "\U0001d159",
          "U+3000": "\u3000", "newline": "\n"}


@pytest.mark.parametrize("blank", BLANKS.values(), ids=BLANKS.keys())
def test_a_pitch_with_its_letters_spaced_out_is_judged_as_the_pitch(blank: str) -> None:
    """Session 12's red team: the blocked pitch, a blank after every letter, was delivered
    (a space) or only warned (U+2800); the reader still reads every word."""
    engine = open_engine(config())
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a", ts=T0, account="bot", created=T0 - 600))
    verdict = engine.process(message(cfg, "m", "bot", ["stranger"],
                                     behind_every_letter(PITCH, blank), T0))
    assert verdict.action == "block", verdict.signals


@pytest.mark.parametrize("blank", BLANKS.values(), ids=BLANKS.keys())
def test_letters_spaced_out_read_as_the_words(blank: str) -> None:
    """A blank after every letter: one between letters joins them, two (the writer's own
    space and the blank after the word) part words; a blank after punctuation parts them."""
    spaced = view(behind_every_letter(PITCH, blank))
    assert spaced.spaced and not view(PITCH).spaced
    assert spaced.skeleton == view(PITCH).skeleton
    assert spaced.fingerprint == view(PITCH).fingerprint


@pytest.mark.parametrize(("written", "read"), [
    ("f r 3 3  r 1 n g t 0 n e s", "free ringtones"),  # leet, spaced: read, then folded
    ("c a l l  0 8 0 0  1 2 3  n o w", "call 0800 123 now"),
    ("h e r e :  b u y", "here: buy"),
    ("G o o d n i g h t . .", "goodnight. ."),
    ("ฟ รี เ ค ร ดิ ต", "ฟรีเครดิต"),  # Thai ("free credit"), each letter's marks kept
    ("b\u2800u\u2800y\u2800 r i n g t o n e s", "buy ringtones"),  # blanks of two kinds
    ("b u y r i n g t o n e s", "buyringtones"),  # one blank everywhere: one run
])
def test_words_spaced_out_in_any_way(written: str, read: str) -> None:
    assert view(written).skeleton == read, written


@pytest.mark.parametrize("prose", [
    "we flew to the U S A in May",  # spelled initials: at most four letters
    "R S V P by friday",
    "categories A, B, C, D, E and F",  # one-letter words, no word spaced out
    "a - b - c",
    "你 好 吗 你 好",  # Han: each character is a word
    "나 도 그 때 그 일이 생각나",  # Hangul: one-syllable words
    "1 2 3 4 5 6 go",  # digits alone are a count, no word
])
def test_ordinary_runs_of_single_characters_stay(prose: str) -> None:
    seen = view(prose)
    assert (seen.text, seen.spaced) == (prose, False), prose


def test_a_blank_that_is_no_whitespace_parts_words() -> None:
    """U+2800 between two words is the space a reader sees there."""
    assert view("FREE\u2800ringtones\U0001d159now").skeleton == "free ringtones now"


def test_a_host_spaced_out_letter_by_letter_is_read_by_the_deny_list() -> None:
    """Review, session 13: ``unspace`` read "t o n e s - s h o p . c o m" as
    "tones- shop. com" (a blank after punctuation kept as a word break), so the host
    the reader joins by eye reached no link check: a deny-listed shop went out
    delivered. A lone dot or hyphen between letters is inside the word; a spaced-out
    sentence keeps its full stop's own space ("y o u .  S e e")."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    for i, text in enumerate(["new ringtones: t o n e s - s h o p . c o m",
                              "w w w . t o n e s - s h o p . c o m  today"]):
        verdict = engine.process(message(engine.config, f"m{i}", "a", ["b"], text))
        assert verdict.action == "block", (text, verdict.signals)
    assert view("I  m i s s  y o u .  S e e  y o u").text == "I miss you. See you"
