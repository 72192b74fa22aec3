"""A new text's view: what it costs, and which of its steps cost it.

    python benchmarks/text_view.py [--texts 2000] [--steps] [--instructions] [--features]

On a real platform a friend's message is nearly always a text never seen before, so the
view's cache (``text.view``) rarely answers; the simulator's load repeats its ~400 texts
and under-weights the view. The corpus here is the bundled chat lines (``sim/texts``)
made distinct the ways people vary them (a name, a number, an emoji, a link to a
well-known site, a case or punctuation change), one in ten a hostile one (a long text,
many links, mixed scripts, zero-width characters, bidi controls, leetspeak, spaced or
defanged links), seeded: the same corpus every run. Each text is viewed once through the
uncached ``_view``. Printed: microseconds a view (CPU time, best of ``--runs``);
``--steps``, each step's share by ``cProfile`` (its own overhead inflates small calls);
``--instructions``, callgrind's instructions a view (the corpus viewed, less the corpus
built and not viewed): the load-independent figure. ``--features``, callgrind's
instructions of the content model's features of a new text (``features.batch_parts`` of
the viewed corpus, in batches of 500, 8 and one, less the corpus viewed and its first
text's features, which build the tables): what content pays for a text its cache has
not seen.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from table import Rows, show

NAMES = ("sam", "Priya", "jo", "Ahmed", "li", "Zoë", "Kasia", "Tom", "Nadia", "Jürgen")
EMOJI = ("😀", "👍", "❤️", "😂", "🙏", "🎉", "👀", "🔥")
SITES = ("https://www.youtube.com/watch?v={n}", "https://en.wikipedia.org/wiki/{n}",
         "https://github.com/x/{n}", "https://open.spotify.com/track/{n}", "bit.ly/{n}",
         "www.bbc.co.uk/news/{n}", "example.com/p/{n}")
# One in ten: the disguises and the sizes a hostile sender picks.
HOSTILE = (
    lambda r, t: t + " " + " ".join(SITES[i % 7].format(n=r.randrange(10**6)) for i in range(12)),
    lambda r, t: (t + " ") * r.randint(10, 40),  # long
    lambda r, t: "\u200b".join(t),  # zero-width between every letter
    lambda r, t: "\u202e" + t[::-1] + "\u202c " + t,  # an override
    lambda r, t: t.replace("a", "а").replace("o", "о").replace("e", "е"),  # Cyrillic
    lambda r, t: t.replace("e", "3").replace("o", "0").replace("i", "1"),  # leet
    lambda r, t: t + " visit tones-shop dot com or bit[.]ly/x",  # spaced, defanged
    lambda r, t: t + " 你好，请看 tones-shop.com 很好 สมัครเลย",  # unspaced scripts
    lambda r, t: " ".join(t.upper()),  # spaced out
    lambda r, t: t + " ｆｒｅｅ 🅕🅡🅔🅔 ℂ𝕒𝕤𝕙 ríñgtönés\u0301 ẞ faß.de",  # compatibility, marks
)


def corpus(count: int, seed: int = 40) -> list[str]:
    """``count`` distinct texts, the chat lines varied, one in ten hostile (see above)."""
    data = resources.files("spimguard").joinpath("data/sim/chat.tsv").read_text("utf-8")
    lines = [line.split("\t", 1)[-1] for line in data.splitlines() if "\t" in line]
    rng = random.Random(seed)
    texts: dict[str, None] = {}
    while len(texts) < count:
        text = rng.choice(lines)
        roll = rng.random()
        if roll < 0.1:
            text = rng.choice(HOSTILE)(rng, text)
        elif roll < 0.3:
            text = f"{rng.choice(NAMES)} {text}"
        elif roll < 0.45:
            text = f"{text} {rng.randrange(100)}"
        elif roll < 0.6:
            text = f"{text} {rng.choice(EMOJI)}"
        elif roll < 0.7:
            text = f"{text} {rng.choice(SITES).format(n=rng.randrange(10**6))}"
        elif roll < 0.85:
            text = (text.lower() if rng.random() < 0.5
                    else text.rstrip(".!?") + "?!"[rng.random() < 0.5])
        else:
            text = f"{text} {rng.choice(lines)}"
        texts[text] = None
    return list(texts)


def _warm() -> None:
    """Every table and pattern the view builds once, built: another seed's corpus viewed."""
    from spimguard.text import _view
    for text in corpus(500, seed=1):
        _view(text)


def seconds(texts: list[str], runs: int) -> float:
    """CPU seconds to view every text once, best of ``runs`` (the parse and suffix caches
    cleared before each: every link new, as every text is)."""
    from spimguard.text import _view, parse_url, registrable_domain
    best = float("inf")
    for _ in range(runs):
        parse_url.cache_clear()
        registrable_domain.cache_clear()
        start = time.process_time()
        for text in texts:
            _view(text)
        best = min(best, time.process_time() - start)
    return best


def steps(texts: list[str], top: int = 14) -> None:
    """Each function's cumulative share of the views, by ``cProfile``."""
    from spimguard.text import _view
    profile = cProfile.Profile()
    profile.enable()
    for text in texts:
        _view(text)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(r"text\.py|features\.py|_sre|regex", top)


def child(count: int, stage: str) -> None:
    """What callgrind runs: the corpus built (and warmed); viewed unless ``stage`` is
    "built"; unless it is "viewed" too, the features' module loaded and its tables built
    (one text's features); and if ``stage`` is a number, the other texts' features in
    batches of that many."""
    texts = corpus(count)
    _warm()
    if stage == "built":
        return
    from spimguard.text import _view
    views = [_view(text) for text in texts]
    if stage == "viewed":
        return
    from spimguard.model import features
    features.batch_parts([(view, ()) for view in views[:1]])
    if stage.isdigit():
        for start in range(1, len(views), int(stage)):
            features.batch_parts([(view, ()) for view in views[start:start + int(stage)]])


def instructions(count: int, stages: tuple[str, ...] = ("built", "viewed")) -> list[int]:
    """Callgrind's instructions a text of each stage (``child``) but the first, less the
    first's: ("built", "viewed") the view, ("warm", "500") a new text's features at
    batches of 500 (the first text's, which builds the tables, left out)."""
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for stage in stages:
            out = Path(folder) / f"callgrind.{stage}"
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            sys.executable, __file__, "--child", str(count), stage],
                           check=True, capture_output=True,
                           env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
            found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
            if found is None:
                raise RuntimeError(f"no summary in {out}")
            totals.append(int(found.group(1)))
    texts = count if stages[0] == "built" else count - 1
    return [(total - totals[0]) // texts for total in totals[1:]]


def main(count: int = 2000, runs: int = 3, counted: bool = False,
         featured: bool = False) -> Rows:
    texts = corpus(count)
    _warm()
    rows = [(f"distinct texts ({sum(map(len, texts)) // count} characters on average)",
             f"{count:,}"),
            ("µs a new text's view (CPU time, best of runs)",
             f"{seconds(texts, runs) / count * 1e6:.1f}")]
    if counted:
        rows.append(("instructions a new text's view (callgrind)", f"{instructions(count)[0]:,}"))
    if featured:
        sizes = ("500", "8", "1")  # a full batch, the server's group commit's, one alone
        rows += [(f"instructions a new text's content features, batches of {size} "
                  "(callgrind)", f"{found:,}")
                 for size, found in zip(sizes, instructions(count, ("warm", *sizes)),
                                        strict=True)]
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]), sys.argv[3])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", action="store_true", help="each step's share (cProfile)")
    parser.add_argument("--instructions", action="store_true", help="callgrind's count")
    parser.add_argument("--features", action="store_true",
                        help="callgrind's count of a new text's content features")
    args = parser.parse_args()
    show(main(args.texts, args.runs, args.instructions, args.features))
    if args.steps:
        steps(corpus(args.texts))
