"""The text view's worst case: adversarial texts of the largest size an event may carry.

    nice python benchmarks/text_worst.py [--kib 64] [--search 200]

Each family repeats a short unit that once drove a pattern into backtracking (the leet
word, the URL finder, the spaced and defanged dots) or stresses normalisation (zero-width
characters, confusables, combining marks, emoji, RTL), up to ``--kib`` KiB of UTF-8;
numbered families write a different word each time (``a1.zz a2.zz ...``) so that no
cache helps.
``--search`` adds that many random units drawn from the same dangerous pieces (fixed
seed: the same run every time) and reports the slowest. Each text is timed (best of three) through
the uncached view (every step: normalisation, skeleton, tokens, links, fingerprint);
the target is 50 ms at 64 KiB on one core.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from importlib import resources

from spimguard.text import _view as uncached_view
from spimguard.text import find_urls, tokenize
from table import Rows

# A prefix that switches a pattern on ("a1 " makes the skeleton look for leet words), then
# the repeated unit.
PREFIXED = (("a1 ", "1@"), ("a1 ", "1$"), ("a1 ", "a1"), ("a dot ", "a"), ("http://", "a."),
            ("http://", "a"), ("www.", "a-"), ("a.", "com."), ("x [", "."), ("a ", " dot"),
            ("a1 ", "1@ "), ("a.com", "/"))
# Words that differ from each other (numbered), so no cache can help: each is a new link
# candidate, leet word or mention.
NUMBERED = ("a{}.zz", "a{}.com", "http://a{}.zz", "w{}.x", "ä{}.de", "@u{}", "a{}b", "x{}.y.z",
            "a{}\u3002zz", "http://{}/", "1.1.1.{}/")
FAMILIES = (
    "a1 1@", "1@", "a1", "@", "$a", "a$", "a@1 ", ".", "a.", "a.b", ".a", "-.", "a-", "a-.",
    "http://", "http://a", "www.", "www.a.", "http://a.com/", "https://a.b/", "a.com/",
    "dot com ", "a dot ", "a dot com ", "a . ", "a [.] ", "a[.]", "a(dot)", "a{.}", " [", "[.",
    "a .com ", "a. ", " .", "\u200b", "a\u200b", "\u200ba.", "а", "𝐚", "a\u0301", "😀", "😀a",
    "\u202e", "ا", "你", " ", "\t", "\n", "!", "!?", ")", "1", "1.", "1.2", "1-", "@a", "@",
    "xn--", "a.xn--", "a:1", "a.b:1/", "a@b.", "a" * 63 + ".", "a" * 64, "ﬁ", "ＡＢ",
    "\u00ad", "a\ufe0f", "\U0001d173", "a\U0001bca0", "a\u3002", "a-\u3002", "1\u3002", "a\u3002b.",
    "\u3002a", "a\u3002com/", "http://0x", "1.1.1.1/",
    # Words spaced out (every run joined, or a run of single letters just short of one),
    # blanks that are no whitespace, links glued to prose without spaces, names before '@'.
    "a ", "a b  ", "a ! ", "a\u2800", "a\U0001d159b ", "\u0e01\u0e34 ", "a, ", "a b c d ",
    "\u4f60a.com ", "\u4f60a-\u3002com/", "\u0e01a.co", "a.com\u4f60", "a.com@b.com/",
    "a.com@", "a@b.com/ ", "a:b@",
    # Hosts written apart with a dot-like or glued mark and a path (``text._apart``).
    "a. com/x ", "a,com/x ", "a\u2022com/x ", "a\u25cfcom/x", "a\u25cf", "a , ", "a. a/",
    "a,bb.", "a\u25cf\u0301com/",
    # ... and with no path (a dot-like mark alone) or a weak separator before a tail.
    "a. com ", "a\u2022com ", "ab. com ", "a;com/x ", "a com?x ",
    # Bidi controls (``text.drawn_order``): overrides, embeddings and isolates nested past
    # the depth, opened and closed, first-strong isolates that look ahead for a letter,
    # Hebrew under an override; links read in both orders.
    "\u202ea", "\u202ea\u202c", "\u202b", "\u202b\u202e", "\u2068", "\u2068a\u2069",
    "\u2068\u202e", "\u2069\u202c", "\u2068\u05d0 ", "\u05d0\u202d", "\u202ea.com ",
    "\u202ea.com\u202c ", "\u202emoc.a ", "\u2068\u2068\u2068a\u2069",
    # ... nests to the depth opened and closed, overrides alternating and never closed,
    # isolates never closed with a letter in each, a paragraph per override.
    "\u202e" * 62 + "a" + "\u202c" * 62, "\u202ea\u202da", "\u2067a", "\u202ea.com\n",
    # Hosts with marks (the marked patterns), in emphasis, with another language's dot.
    "a\u0301.", "\u0301a.", "a\u0336", "a\u0301.co\u0301m/", "\u0e01\u0e34.", "_a.com_ ",
    "*http://a.com* ", "_http://a_", "||http://a.com|| ", "a punto com ", "a[punto]",
    "a (punkt) ",
    # Links' authorities ended by a mark no host holds (``text._AUTHORITY``): emphasis before
    # a path, markdown's link, an IPv6 bracket never closed, underscores at a host's end;
    # enclosing marks inside labels, a CJK word for the dot.
    "*http://a.com*/ ", "[http://a.com](http://a.com) ", "http://[a:", "http://[", "http://a_",
    "http://a*", "a\u20dd.com ", "a\u20dd", "http://a\u20dd", "a\u70b9com ", "a\u70b9",
    "a\u30c9\u30c3\u30c8com ",
    # ... each read on to its authority's end (``text._run_on``): read to the next blank, a
    # run of them cost its square (session 34's review: "www.a|", 8 s at 64 KiB); a host
    # cut at an enclosing mark.
    "www.a|", "www.a*/", "https://a.b^", "a.com\u20dd.zzz ",
)
PIECES = ("a", "1", "@", "$", ".", "-", "_", " ", "dot", "com", "[", "]", "(", ")", "{", "}",
          "http://", "www.", "/", ":", "\u200b", "а", "😀", "xn--", "\u0301", "ا", "你", "\n",
          "\u3002", "\U0001d173", "0x", "\u2800", "\u0e01", "\u0e34", ",", "\u2022", "\u25cf")


def fill(unit: str, kib: int) -> str:
    """``unit`` repeated to ``kib`` KiB of UTF-8 (whole characters; a longer ``unit`` is
    clipped the same way)."""
    limit = kib * 1024
    text = unit * (limit // max(1, len(unit.encode("utf-8"))) + 1)
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def seconds(step: Callable[[str], object], text: str, runs: int = 3) -> float:
    """The best of ``runs``: the machine is shared, and other work only adds time."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step(text)
        times.append(time.perf_counter() - start)
    return min(times)


def slowest(kib: int, search: int) -> list[tuple[float, float, float, str]]:
    """(view, urls, tokens seconds, unit) of every text, slowest first."""
    rng = random.Random(13)
    units = [(repr(u), u) for u in FAMILIES]
    units += [(f"{p!r} + {u!r}", p + fill(u, kib)) for p, u in PREFIXED]
    units += [(f"numbered {w!r}", " ".join(w.format(n) for n in range(kib * 1024 // 3)))
              for w in NUMBERED]
    units += [(f"random {u!r}", u) for u in
              ("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
               for _ in range(search))]
    uncached_view("warm-up: frее ríngtones 你好 😀 at example.com and bit[.]ly")  # tables, PSL
    timed = []
    for name, unit in units:
        text = fill(unit, kib)
        timed.append((seconds(uncached_view, text), seconds(find_urls, text),
                      seconds(tokenize, text), name))
    return sorted(timed, reverse=True)


def main(kib: int = 64, search: int = 200) -> Rows:
    view_s, _, _, name = slowest(kib, search)[0]
    count = len(FAMILIES) + len(PREFIXED) + len(NUMBERED) + search
    return [(f"text view, slowest {kib} KiB input of {count} "
             f"(target 50), ms: {name}", f"{view_s * 1000:.1f}")]


def ordinary(kib: int) -> float:
    """The simulator's chat lines, one after another up to ``kib`` KiB: the yardstick."""
    lines = resources.files("spimguard").joinpath("data/sim/chat.tsv").read_text("utf-8")
    chat = " ".join(line.split("\t", 1)[-1] for line in lines.splitlines())
    return seconds(uncached_view, fill(chat + " ", kib))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=64)
    parser.add_argument("--search", type=int, default=200)
    args = parser.parse_args()
    timed = slowest(args.kib, args.search)
    print(f"text view of {args.kib} KiB texts, {len(timed)} units; ordinary chat of that "
          f"size: {ordinary(args.kib) * 1000:.1f} ms; slowest ten (ms):")
    print(f"{'view':>8} {'urls':>8} {'tokens':>8}  unit")
    for whole, urls, tokens, name in timed[:10]:
        print(f"{whole * 1000:8.1f} {urls * 1000:8.1f} {tokens * 1000:8.1f}  {name}")
