"""A new text's band keys (bulk's MinHash LSH): what they cost, and that they stay the same.

    python benchmarks/band_keys.py [--instructions] [--digest] [--base ../base/src]

The corpus: the cold load's texts (``cold_instructions.cold_load``: real chat lines each
once, campaigns' copies personal), masked as bulk masks them for their recipients
(``text.masked_for``), distinct; then every real set's texts under ``shared/datasets``
(``datasets.CORPORA``: English, Russian, Thai, Indonesian, X posts); then hostile ones
(``hostile``: very long, one word repeated, thousands of distinct words, marks only, odd
scripts' digits). Printed:

- ``--instructions``: callgrind's instructions a text of ``bulk._keys`` over the cold
  load's masked texts (each keyed once, less the corpus read and not keyed): the
  load-independent figure of what a text new to ``_cached_text`` costs;
- ``--digest``: a digest of every text's keys (or None) over the whole corpus, and with
  ``--base``, the same digest computed by another tree's code (its ``src``, run in a
  child): the two must match.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

import cold_instructions
import instructions
from table import DATASETS, Rows, show


def hostile(seed: int = 45) -> list[str]:
    """Texts built to find a slow or a wrong path: long, repetitive, wide, odd."""
    draw = random.Random(seed)
    words = [f"w{i}" for i in range(6_000)]
    digits = "٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２"
    return [
        "free " * 5_000,  # one word, said again and again (unpaired after the first)
        "free ringtones " * 3_000,  # two words alternating: one pair, thousands of times
        " ".join(words),  # thousands of distinct words: thousands of distinct pairs
        " ".join(draw.choice(words[:50]) for _ in range(4_000)),
        "... -- __ ## @@ <> " * 200,  # marks alone: no word
        " ".join(draw.choice(digits) * draw.randint(1, 4) for _ in range(300)),
        "x " * 1 + "y",  # two words: one pair
        "a b",
        "a",
        "",
        " ".join("ab"[i % 2] * (i % 7 + 1) for i in range(2_000)),
        " ".join(chr(0x4E00 + i) for i in range(1_500)),  # CJK, one a word
        "\u0661\u0662 \u0967\u0968 ℂ𝕒𝕤𝕙 ríñgtönés ßtraße " * 40,
        " ".join(f"{w} {w}" for w in words[:800]),  # each word said twice
        "_a_ b.c d-e f#g h@i <name> # @ " * 100,
    ]


def _others() -> list[str]:
    from spimguard.model import datasets

    found = []
    for known in datasets.CORPORA:
        if (DATASETS / known.spec.partition("=")[0]).exists():
            found += [s.text for s in known.load(DATASETS)]
    return found


def corpus(users: int = 150, days: int = 1) -> tuple[list[str], int]:
    """Every text of the corpus, masked as bulk masks it, distinct, and how many of the
    first are the cold load's (the counted ones)."""
    from spimguard.text import masked_for, names_of, view

    masked = []
    for line in cold_instructions.cold_load(users, days):
        event = msgspec.json.decode(line)
        text = event.get("text")
        if isinstance(text, str) and text and not event.get("encrypted"):
            masked.append(masked_for(view(text), names_of(tuple(event.get("recipients", ())))))
    cold = list(dict.fromkeys(masked))
    rest = [masked_for(view(text), ()) for text in _others() + hostile()]
    return cold + [t for t in dict.fromkeys(rest) if t not in set(cold)], len(cold)


def digest(texts: list[str]) -> str:
    """A digest of every text's band keys (``bulk._keys`` with the default settings)."""
    from spimguard.detectors import bulk

    cfg = bulk.BulkSettings()
    fillers = bulk._fillers(cfg.fillers)
    out = hashlib.blake2b(digest_size=8)
    for text in texts:
        out.update(repr(bulk._keys(text, cfg.min_words, cfg.bands, cfg.rows, fillers)).encode())
    return out.hexdigest()


def child(path: str, stage: str) -> None:
    """What a child runs: the texts read; keyed when ``stage`` is "keyed" (after one text
    keyed in both stages, which builds the permutations and the settings' caches);
    ``stage`` "digest" prints the digest of them all."""
    texts = msgspec.json.decode(Path(path).read_bytes())
    if stage == "digest":
        print(digest(texts))
        return
    from spimguard.detectors import bulk

    cfg = bulk.BulkSettings()
    fillers = bulk._fillers(cfg.fillers)
    keys = bulk._keys
    keys("warm the caches up now", cfg.min_words, cfg.bands, cfg.rows, fillers)
    if stage == "keyed":
        for text in texts:
            keys(text, cfg.min_words, cfg.bands, cfg.rows, fillers)


def counted(texts: list[str]) -> int:
    """Callgrind's instructions a text of ``bulk._keys`` (``child``'s "keyed" less "read")."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "texts.json"
        path.write_bytes(msgspec.json.encode(texts))
        read, keyed = (instructions.total([__file__, "--child", str(path), stage],
                                      Path(folder) / f"callgrind.{stage}")
                       for stage in ("read", "keyed"))
    return (keyed - read) // len(texts)


def base_digest(texts: list[str], src: Path) -> str:
    """``digest`` computed by the code under ``src`` (another tree's), in a child."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "texts.json"
        path.write_bytes(msgspec.json.encode(texts))
        paths = os.pathsep.join((str(src), str(Path(__file__).parent)))
        done = subprocess.run([sys.executable, __file__, "--child", str(path), "digest"],
                              check=True, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": paths})
    return done.stdout.strip()


def main(count: bool, digested: bool, base: Path | None) -> Rows:
    texts, cold = corpus()
    rows: Rows = [("texts (the cold load's, masked, distinct)", f"{cold:,}"),
                  ("texts in all (with the other sets' and hostile ones)", f"{len(texts):,}")]
    if count:
        rows.append(("instructions a new text's band keys (callgrind)",
                     f"{counted(texts[:cold]):,}"))
    if digested or base is not None:
        rows.append(("digest of every text's keys", digest(texts)))
    if base is not None:
        rows.append((f"the same by {base}", base_digest(texts, base)))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instructions", action="store_true", help="callgrind's count")
    parser.add_argument("--digest", action="store_true", help="every text's keys' digest")
    parser.add_argument("--base", type=Path, help="another tree's src: its digest too")
    args = parser.parse_args()
    show(main(args.instructions, args.digest, args.base))
