"""Red team, session 32: the words and links path, from a spammer's seat (``content32``).

Measured on main (session 31's release) before the fixes:

- A direction override (U+202E RIGHT-TO-LEFT OVERRIDE) draws the characters after it right
  to left: "\\u202e!ezirp a now" is drawn "won a prize!". ``text.clean`` dropped the
  override as an invisible character and kept the stored order, so every detector read the
  pitch backwards: the winner pitch below fell from p 1.000 to 0.141 (under the model's
  warn_at, 0.70), and a denied host written "\\u202emoc.pohs-senot" got no signal.
- Markdown's emphasis: "_tones-shop.com_" (italics in WhatsApp, Telegram, Slack) was read as
  the host "_tones-shop.com", a name no registry gives out and no list names: a denied
  host so written got no signal.
- ``re``'s word class holds no combining mark, so a host's label stopped at one: the Thai
  host "สมัครสมาชิก.com" was read as "ก.com", "tones-shop.com" with "tones" struck through
  (U+0336) as "-shop.com", and "tones-shop" with a dot below its "p" (U+0323) as no link.

- A host spelled with another language's word for the dot ("tones-shop punto com", "...
  point com", "... точка com") was read as no host, not even as a guess for the block list
  (English's "dot" is read as a link).

Left open (strict xfails, with the numbers): near-duplicates spun per recipient (synonyms)
at the bulk detector's word pairs. Filler words put in (each copy its own "really", "just",
"literally", "so") were open here too, clusters of at most 14-28 of 200; session 33
(``respin33``) made fillers no words to bulk (``BulkSettings.fillers``): one of 200.
"""

from __future__ import annotations

import collections
import itertools
import random

import pytest

from spimguard.detectors.bulk import BulkSettings, text_keys
from spimguard.model import scorer
from spimguard.text import drawn_order, view
from test_links import codes, links_engine, lists_write

RLO, LRO, PDF = "\u202e", "\u202d", "\u202c"
PITCH = ("URGENT! You have won a free prize of 2000 GBP cash. Claim now, call 09061701461, "
         "reply STOP to opt out")


def drawn_backwards(text: str) -> str:
    """``text`` stored so that, under an override, it is drawn as ``text``."""
    return RLO + text[::-1] + PDF


@pytest.fixture(scope="module")
def model() -> scorer.LinearModel:
    return scorer.load(None)


@pytest.mark.parametrize("written", [
    drawn_backwards(PITCH),
    " ".join(drawn_backwards(word) for word in PITCH.split()),  # word by word
    "hi! " + drawn_backwards(PITCH) + "\n",
])
def test_a_pitch_under_a_direction_override_is_read_as_drawn(
        written: str, model: scorer.LinearModel) -> None:
    seen = view(written)
    assert PITCH in seen.text
    hold_at = model.card["thresholds"]["hold_at"]
    assert model.probability(seen) >= hold_at  # main: 0.141 and 0.172


@pytest.mark.parametrize("written", [
    drawn_backwards("tones-shop.com"),
    "join free at " + drawn_backwards("https://tones-shop.com/join"),
    "join free at tones-shop" + RLO + "moc." + PDF,  # only the suffix drawn backwards
])
def test_a_denied_host_under_a_direction_override_is_blocked(written: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, written)


@pytest.mark.parametrize(("stored", "read"), [
    (f"a{RLO}cb{PDF}d", "abcd"),
    (f"{RLO}olleh \u05e9\u05dc\u05d5\u05dd{PDF}", "\u05e9\u05dc\u05d5\u05dd hello"),  # Hebrew kept
    (f"{LRO}\u05dd\u05d5\u05dc\u05e9{PDF} ok", "\u05e9\u05dc\u05d5\u05dd ok"),  # drawn L-to-R
    (f"{RLO}fe{LRO}cd{PDF}ba{PDF}", "abcdef"),  # a span inside another is kept whole
    (f"{RLO}fe{RLO}dc{PDF}ba{PDF}", "abcdef"),
    (f"x{RLO}cba\ndef", "xabc\ndef"),  # a paragraph's end closes every span
    (f"p \u2067{RLO}cba\u2069 q", "p abc q"),  # an isolate's end closes the spans inside
    (f"{RLO}e\u0301dc", "cde\u0301"),  # a letter keeps its accent
])
def test_the_order_drawn(stored: str, read: str) -> None:
    assert drawn_order(stored) == read


def test_only_an_override_reorders_what_is_read() -> None:
    """Embeddings and isolates set the side a run is laid out from, not its letters' order:
    right-to-left text written with them (or none) is read as stored."""
    for text in ("\u05e9\u05dc\u05d5\u05dd, what's up? 12:30", "\u0645\u0631\u062d\u0628\u0627 abc",
                 "\u202bembedded \u05e9\u05dc\u05d5\u05dd\u202c", "\u2067isolated\u2069"):
        assert view(text).text == view(text.replace("\u202b", "").replace("\u202c", "")
                                        .replace("\u2067", "").replace("\u2069", "")).text
    assert view(f"{RLO}won a prize{PDF}").text == "ezirp a now"


def test_overrides_nested_past_the_algorithm_s_depth_cost_a_linear_pass() -> None:
    text = RLO * 10_000 + "cba" + PDF * 10_000
    assert drawn_order(text) in ("abc", "cba")


@pytest.mark.parametrize("written", [
    "join free at _tones-shop.com_", "join free at __tones-shop.com__",
    "join free at *_tones-shop.com_*", "join free at _tones-shop.com/join_",
    "join free at __tones-shop com/join__",  # written apart, in emphasis
])
def test_a_denied_host_in_markdown_s_emphasis_is_blocked(written: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, written)


def test_a_host_in_emphasis_is_the_host() -> None:
    assert view("see _tones-shop.com_ now").domains == ("tones-shop.com",)
    assert view("snake_case.py and my_file.txt").domains == ("snake_case.py",)  # as before


@pytest.mark.parametrize(("written", "domain"), [
    ("สมัครสมาชิก.com", "xn--12cfs4gbl0cd4dox.com"),  # Thai vowel and tone marks
    ("ต้นไม้.ไทย/x", "xn--m3ciy3lxad.xn--o3cw4h"),
    ("हिन्दी.भारत/x", "xn--j2bd4cyah0f.xn--h2brj9c"),  # Devanagari vowel signs, in the suffix too
    # "tones" struck through
    ("t\u0336o\u0336n\u0336e\u0336s\u0336-shop.com", "xn--tones-shop-figbbbb.com"),
    ("tones-shop\u0323.com", "xn--tones-shop-pcg.com"),  # a dot below: no precomposed letter
])
def test_a_host_is_read_with_its_marks(written: str, domain: str) -> None:
    assert view(f"see {written} now").domains == (domain,)


# -- left open ------------------------------------------------------------------------------

SPUN = ("Hi {name}, I {made} 4000 {dollars} this week trading crypto with a {simple} {app} my "
        "{mentor} showed me, {message} me and I will show you how to {start} {today}")
SYNONYMS = {"made": ["earned", "got", "made", "pulled"], "dollars": ["USD", "bucks", "dollars"],
            "simple": ["easy", "simple", "basic"], "app": ["app", "tool", "platform"],
            "mentor": ["mentor", "coach", "friend"], "message": ["message", "text", "dm"],
            "start": ["start", "begin"], "today": ["today", "now"]}
NAMES = ["".join(name) for name in itertools.product("bdfgk", "aeiou", "lmnrs", "aeiou")][:200]
FILLER = ["really", "just", "literally", "so"]


def _largest_cluster(copies: list[str]) -> int:
    """The most copies that share one LSH band key (what one cluster of bulk counts)."""
    cfg = BulkSettings()
    counts: collections.Counter[str] = collections.Counter()
    for text, name in zip(copies, NAMES, strict=True):
        counts.update(set(text_keys(view(text), (name,), cfg) or ()))
    return counts.most_common(1)[0][1]


def _plain(name: str) -> str:
    return SPUN.format(name=name, **{k: v[0] for k, v in SYNONYMS.items()})


def _spun(seed: int) -> list[str]:
    pick = random.Random(seed)
    return [SPUN.format(name=name, **{k: pick.choice(v) for k, v in SYNONYMS.items()})
            for name in NAMES]


def _padded(seed: int, padding: list[str] = FILLER) -> list[str]:
    """Each copy of the pitch with one of ``padding`` after about a quarter of its words."""
    pick = random.Random(seed)
    return [" ".join(itertools.chain.from_iterable(
        (word, pick.choice(padding)) if pick.random() < 0.25 else (word,)
        for word in _plain(name).split())) for name in NAMES]


@pytest.mark.xfail(strict=True, reason=(
    "bulk's MinHash is of word pairs, and each swapped word breaks two: 200 copies of a "
    "spintax pitch (one of 2-4 synonyms in 8 places, each copy its own pick; 3,888 forms) "
    "meet in clusters of at most 33, 39, 31 copies (seeds 1-3; 33, 35 on seeds 4-5, not "
    "tuned on; pair Jaccard to the first copy 0.46-0.54), where 200 copies greeting each "
    "recipient by name meet in one of 200; the engine's cluster, which each copy joins by "
    "any band it shares, counted 49, 60, 58 (68, 60), and since session 34 (clusters34: one "
    "summary a cluster, under its home key) 175, 169, 178 (175, 173): the campaign is "
    "counted, but no one band key holds half its copies. Measured in session 33 "
    "(respin33) and not shipped: a second MinHash over the "
    "content words (function words and fillers dropped, 5 or more of them) in 6 bands of 2 "
    "lifts this to 151-155 but joins 10,684 pairs of distinct UCI SMS ham (54 now; most on "
    "one key 54 texts, from 4), still 1,662 when only texts of 10+ content words take it; "
    "in 6 bands of 3, 69-75 here for 732 ham pairs. Telling a synonym from chat's common "
    "words needs to know which words are rare, which no list of function words gives"))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_spun_with_synonyms_is_one_cluster(seed: int) -> None:
    assert _largest_cluster([_plain(name) for name in NAMES]) == len(NAMES)
    assert _largest_cluster(_spun(seed)) >= len(NAMES) // 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_padded_inside_is_one_cluster(seed: int) -> None:
    assert _largest_cluster(_padded(seed)) >= len(NAMES) // 2


@pytest.mark.parametrize("word", ["punto", "point", "Punkt", "ponto", "titik", "точка", "kropka",
                                  "chấm"])
def test_a_denied_host_spelled_with_a_foreign_dot(word: str) -> None:
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert "LINK_BLOCKLISTED" in codes(engine, f"join free at tones-shop {word} com")
    assert "LINK_BLOCKLISTED" in codes(engine, f"join at tones-shop {word} com/free", "m2")


def test_a_foreign_dot_in_prose_is_a_guess_only_the_block_list_reads() -> None:
    for prose in ("la burbuja punto com estalló", "come by at some point so we can talk"):
        seen = view(prose)
        assert seen.urls == () and seen.apart_sites == () and seen.apart_hosts
    engine = links_engine()
    engine.write_state([lists_write("block", ["tones-shop.com"])])
    assert codes(engine, "la burbuja punto com estalló") == set()


def test_a_link_under_an_override_is_read_as_stored_too() -> None:
    """A client makes links of the characters stored: "\\u202ehttp://..." is drawn backwards
    and still opens its site, so the stored order's links count beside the drawn order's
    (the lead's review: a fuzzed XMPP stanza's denied link behind an override reached its
    recipient), and a link drawn right way round from reversed characters counts too."""
    stored = view("look \u202ehttp://tones-shop.com/r and more")
    assert "tones-shop.com" in stored.domains
    drawn = view("look \u202er/moc.pohs-senot//:ptth\u202c now")
    assert "tones-shop.com" in drawn.domains
    both = view("\u202ehttp://tones-shop.com/a\u202c \u202eb/moc.yreve-enot//:ptth\u202c")
    assert {"tones-shop.com", "tone-every.com"} <= set(both.domains)
