"""Red team, sessions 15-16: a denied host written apart with a mark a reader retypes as its dot.

The view read "tones-shop dot com", "tones-shop .com", "tones-shop(.)com" and
"tones-shop[dot]com" as tones-shop.com, so the operator's deny list blocked them; written
"tones-shop. com/new", "tones-shop,com/new", "tones-shop•com/new" or "tones-shop·com/new"
the same link got no signal at all (session 15, measured: delivered). A reader retypes each
mark as the dot: no host holds one. The rule (``text._apart_links``): a label, one mark
drawn like a full stop, a comma or a middle dot (the marks, from TR39's confusables), a
suffix registries run (the PSL's ICANN section) and a path is a link written apart, as
"dot com" is. Prose parts its words with ". " and "," all day, but does not put a suffix
and a path straight after them: of the 16,445 ordinary texts of the six corpora none gains
a link, nor does any of the 691 lines of the project's own documents (README, design and
style notes, the datasets' provenance) that hold a '/' and do not describe this attack.
Chat does now and then ("yes, no/maybe": session 16's review), so the reading is a guess
(``MessageView.apart_hosts``) that only the operator's block list reads
(``test_apart_links``).

Session 17 closed what was left open: a spammer drops the path ("tones-shop. com"), or
writes a blank alone or another ASCII mark ("tones-shop com/new", "tones-shop;com/new").
A reader still reads a domain; what makes it one is the name before the break and a public
suffix after it, and the guess costs nothing where it counts: only a name the operator
listed turns it into a verdict. So a mark a reader retypes as the dot needs no path, only a
name (a letter in the label, a suffix in one case, no comma), and the separators no reader
retypes as a dot need a link's tail (a path, a query, a port). Measured on the 10,887 ham
texts of the six corpora: 90 gain a guess (0 before; "are you?how", "p.m. ET"), none of
which a block list of every domain their spam links to and the 21,908 Discord phishing
domains names.
"""

from __future__ import annotations

import pytest

from spimguard import lists, text
from spimguard.text import parse_url, view
from test_links import codes, links_engine, lists_write


@pytest.mark.parametrize("written", [
    " .", " dot ", "(.)", ". ", ",", "\u2022", "\u00b7",
    # Probes beyond the four found open: the same marks with blanks around them, and the
    # other marks TR39 draws like a dot (hyphenation point, bullet and dot operators,
    # katakana middle dot, Greek ano teleia, one dot leader: NFKC makes the last two a
    # middle dot and a full stop).
    " , ", ", ", ".  ", " \u2022 ", "\u2027", "\u2219", "\u22c5", "\u30fb", "\u0387", "\u2024 ",
    # A spammer who read the rule: any mark outside ASCII glued between the two (a black
    # circle, an emoji, a currency sign, two ideographic full stops), an accent drawn on
    # the bullet, a full stop beside it.
    "\u25cf", "\u26ab", "\U0001f600", "\u20ac", "\u3002\u3002", "\u2022\u0301", "\u2022.",
    ".\u2022",
])
def test_a_denied_host_written_apart_is_blocked(written: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, f"ringtones at tones-shop{written}com/new")


@pytest.mark.parametrize(("written", "host"), [
    ("TONES-SHOP. COM/NEW", "tones-shop.com"),
    ("tones-shop, co.uk/new", "tones-shop.co.uk"),
    ("shop.tones-shop•com/new", "shop.tones-shop.com"),
    ("магазин· рф/акция", "xn--80aairftm.xn--p1ai"),
])
def test_a_host_written_apart_is_read_whole(written: str, host: str) -> None:
    seen = view(f"see {written} today")
    assert seen.apart_hosts == (host,) and seen.urls == ()  # for the block list alone


@pytest.mark.parametrize("prose", [
    "ok,com",  # a typo of "ok, come": a comma needs a link's tail after the suffix
    "clothes, jewelry, and trips?",  # a list
    "step 1. 10/12 done",  # numbers
    "see you at 5. com on",  # a time: no name before the full stop
    "la vil·la i la col·lecció",  # Catalan's middle dot between letters
    "apples • pears • plums/pears",  # no suffix after the mark
    "I love node. js",  # no public suffix
    "Hey man. My number is new",  # a sentence starts with a capital
    "Arms fine. how's Cardiff?",  # an apostrophe goes on with the word
    "see you.. love you",  # two full stops are chat's pause but before a link's tail
    "Ok\ufffdsmart work",  # a character lost in decoding, no mark
    "the store is open now",  # a blank alone needs a link's tail
])
def test_prose_with_a_dot_like_mark_is_no_link(prose: str) -> None:
    assert view(prose).urls == view(prose).apart_hosts == ()


@pytest.mark.parametrize(("prose", "host"), [
    ("hi. com", "hi.com"),  # a sentence's end, then a word that is a suffix
    ("I'm at home. net is down", "home.net"),
    ("the chain. data/ research by them", "chain.data"),
    # A private suffix (session 26): the company's host named after prose's last word, as
    # likely as a user's host written apart ("tones-shop. blogspot.com").
    ("my page. github.io/blog", "page.github.io"),
    ("lol. github.io is down", "lol.github.io"),
])
def test_prose_read_as_a_host_is_a_guess_that_only_a_listed_name_makes_count(
        prose: str, host: str) -> None:
    """Nothing in these tells them from "tones-shop. com": the view guesses, no link is
    counted, and a block list that does not name the host has nothing to say."""
    seen = view(prose)
    assert seen.apart_hosts == (host,) and seen.urls == ()
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert codes(engine, prose) == set()


@pytest.mark.parametrize("prose", [
    "tones-shop’com/new",  # a quote: prose elides with it ("l’app/...")
    "tones-shop«com/new",  # a bracket
    "tones-shop\u0301com/new",  # an accent on the label's last letter, no mark
    "tones-shop\u00b8com",  # an accent on a blank is a blank: no link's tail, no dot
    "yes… no/maybe",  # an ellipsis is prose's pause (NFKC: "...")
    "我很好。com/new",  # CJK prose ends its sentence with its own full stop
])
def test_glued_characters_that_are_no_dot_stay_prose(prose: str) -> None:
    assert view(prose).urls == view(prose).apart_hosts == ()


# Open until session 17: nothing in these texts tells a link from prose, but a name the
# operator listed is no accident.
@pytest.mark.parametrize("text", ["ringtones at tones-shop. com", "tones-shop;com/new",
                                  "tones-shop com/new", "TONES-SHOP. COM!",
                                  "tones-shop•com", "tones-shop | com?id=1",
                                  # quoted (review): a closing quote is no apostrophe
                                  "visit 'tones-shop. com' now", "visit ‘tones-shop. com’"])
def test_a_denied_host_written_apart_with_no_mark_of_a_link(text: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, text)


# Review of session 17: one character from a form the block list reads, delivered.
# Closed in session 23: a spacing accent ("¸") is a blank and an accent on it (NFKC writes
# it so), and an accent on a blank is the blank (``_reads_as_dot``): with a link's tail
# after it, "tones-shop¸com/new" is "tones-shop com/new", which the block list reads.
# (An accent on the label's last letter is no blank: "tones-shop\u0301com/new" stays prose.)
@pytest.mark.parametrize("text", ["tones-shop\u00b8com/new", "tones-shop \u0301com/new",
                                  "tones-shop\u00b8 com?id=1"])
def test_a_denied_host_written_apart_with_an_accent_on_a_blank(text: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, text)


def _open(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


# Still open: each is one character from a form read, and each is what chat writes with no
# link in mind, so a rule reading it would read chat's phrases as hosts too.
@pytest.mark.parametrize("text", [
    pytest.param("visit tones-shop. Com", marks=_open(
        "a capital then small letters starts a sentence: 'man. My' would be man.my")),
    pytest.param("tones-shop,com", marks=_open(
        "a comma glued between two words with no link's tail is a typist's slip: 'ok,so'")),
    pytest.param("tones-shop\u2025com", marks=_open(
        "the two-dot leader is NFKC's '..', a pause as the ellipsis is ('ok..so', 'yes…no'): "
        "read as a dot only with a link's tail after it, as '…' is")),
    pytest.param("tones-shop\u02cccom", marks=_open(
        "U+02CC is a letter (Lm: IPA's secondary stress, written inside words, 'ˌɪntə') "
        "and TR39 draws it like no mark: no data tells it from a word's own letters")),
])
def test_a_denied_host_one_character_from_a_form_read(text: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, text)


def test_a_denied_host_written_apart_after_chat_that_reads_as_hosts() -> None:
    """Review of session 17, closed in session 23: chat's own guesses ("ok. so", "hi. me")
    came first and filled ``links.max_urls`` (16), so the guess after them was never looked
    up. Every guess now reaches the block list (a set's look-up); the cap keeps to the costly
    checks of the links typed."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    decoys = " ".join(f"w{i}. me" for i in range(16))
    assert "LINK_BLOCKLISTED" in codes(engine, f"{decoys} tones-shop. com")


@pytest.mark.parametrize("decoy", ["w{}. me", "ok{}. so", "a{}\u2022com", "x{} com/y"])
def test_a_denied_host_after_a_text_full_of_decoys(decoy: str) -> None:
    """The view's own caps could be filled as ``max_urls`` was (256 places judged before
    session 23): 64 KiB of decoys, then the listed host, is still blocked, read in bounded
    time, and asks the list about fewer names than the text has characters."""
    import time

    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    listed = " tones-shop. com/new"
    decoys = " ".join(decoy.format(i) for i in range(65536 // len(decoy)))
    text = decoys.encode()[:65536 - len(listed)].decode("utf-8", "ignore") + listed
    started = time.process_time()
    seen = view(text)
    assert time.process_time() - started < 1.0
    assert "tones-shop.com" in seen.apart_hosts
    assert len({s for h in seen.apart_hosts for s in lists.host_suffixes(h)}) < len(text) // 2
    assert "LINK_BLOCKLISTED" in codes(engine, text)


def test_a_denied_typed_link_after_sixteen_others() -> None:
    """The same cap on the links typed: the block list reads every link the view read, the
    costly checks the first ``max_urls``."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    links = " ".join(f"https://site{i}.example.com/a" for i in range(16))
    assert "LINK_BLOCKLISTED" in codes(engine, f"{links} https://tones-shop.com/new")


@pytest.mark.parametrize("text", [
    "see tones-shop.com/new. com",  # a full stop after a link's path: the path's word
    "write to bob@tones-shop. com",  # an address, no link: as typed whole, it is none
    "tones-shop. com@example.org",  # the name of an address
])
def test_a_guess_is_read_where_a_link_written_whole_would_be(text: str) -> None:
    assert view(text).apart_hosts == ()


def test_chat_with_its_full_stops_is_delivered_beside_a_block_list() -> None:
    """Honest side: a long chat of sentences, many of them read as guesses ("ok. so",
    "hi. me"), is delivered: only a name on the list counts."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com", "shop.com"])])
    chat = "ok. so i went to the shop. me and sam. hi. me again, no/maybe. " * 60
    assert len(view(chat).apart_hosts) > 3
    assert codes(engine, chat) == set()


def test_a_written_apart_host_does_not_join_a_link_written_whole() -> None:
    # A full stop, then a link: the link is what was written, the word before stays prose.
    seen = view("I got it from the shop. tones-shop.com/new")
    assert [u.host for u in seen.urls] == ["tones-shop.com"] and seen.apart_hosts == ()


@pytest.mark.parametrize("decoys", [
    " ".join(f"https://site{i}.example.com/a" for i in range(64)),  # text.MAX_URLS links
    # text.MAX_LINK_CANDIDATES link-like words, here one host's pages:
    " ".join(f"https://site.example.com/{i}" for i in range(256)),
])
def test_a_denied_typed_link_after_the_view_s_cap(decoys: str) -> None:
    """Review of session 23: the view reads a message's first ``MAX_URLS`` (64) links, or
    its first ``MAX_LINK_CANDIDATES`` (256) link-like words, each a parse of tens of µs; a
    denied link typed after them was never read, so no list saw it. The hosts past the caps
    are read for the block list alone (``MessageView.unread_hosts``)."""
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, f"{decoys} https://tones-shop.com/new")


@pytest.mark.parametrize("link", [
    "https://tones-shop.com/new", "HTTPS://User:pw@Tones-Shop.COM:8080/x?y#z",
    "tones-shop.com\\@example.org/x", "http://%74ones-shop.com/", "http://tones-shop.com./x",
    "www.tones-shop.com", "tones-shop.co.uk/a", "http://[::1]:80/x", "95.141.32.7/login",
    "http://xn--tnes-shop-r7a.com/", "http://tönes-shop.com/", "paypal.com@tones-shop.com/x",
    "http://0x5f.0x8d.0x20.0x07/x",
])
def test_a_host_past_the_caps_reads_as_the_links_read_before_them(link: str) -> None:
    """What the block list reads of a link past the caps is the host ``parse_url`` reads of
    it (a list names hosts): the same link as the 65th and as the first."""
    parsed = parse_url(link, explicit=True)
    assert parsed is not None
    before = " ".join(f"https://site{i}.example.com/a" for i in range(text.MAX_URLS))
    assert view(f"{before} {link}").unread_hosts == (parsed.host,)
    assert [u.host for u in view(f"see {link}").urls] == [parsed.host]
