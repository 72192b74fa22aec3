"""Whether two trees give every text the same content features: a digest a text, to compare.

    PYTHONPATH=<tree>/src python benchmarks/features_same.py --tests <tests> --out FILE
    cmp FILE_OF_ONE_TREE FILE_OF_THE_OTHER

A change meant to make the features cheaper must leave every bucket as it was (the bundled
model's margins, and so every verdict, hang on them). For each text of a large corpus it
writes one line: a digest of its ``cues``, ``cues.dense``, ``buckets``, and its
``_hashed_parts`` alone and in batches of 500 (a fifth of them greeting one of their own
words as a recipient's name). The corpus: the bundled chat lines and bait lists, the six
public corpora under ``--datasets``, the feature probes, every string constant of the
``--tests`` folder's files (give both trees the same one), 25,000 seeded mixes of their
words with the characters the features' tests turn on, and 3,000 strings of random code
points. Run it with each tree's ``src`` first on the path and compare the files.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import random
from importlib import resources
from pathlib import Path

from spimguard.model import cues, datasets, features
from spimguard.text import _view
from table import DATASETS

POOLS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
         "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
         "    .*_-@$£€₽฿₹/:!?,", "😀🚀✅🅕🅡⒡☀❤⬛🀄", "เครดิตฟรีบาทสมัคร", "空投请看很好",
         "\u200b\u202e\u0301\u2800ß İıſKΣςﬁ", "ᴛʜᴇʀɪᴄʜ", "ａｂｃＦＵＬＬ１２")


def corpus(tests: Path, root: Path) -> list[str]:
    """The texts (see above), each once, in a fixed order."""
    texts: dict[str, None] = {}
    data = resources.files("spimguard").joinpath("data")
    for line in data.joinpath("sim/chat.tsv").read_text("utf-8").splitlines():
        texts[line.split("\t", 1)[-1]] = None
    for language in ("en", "es", "id", "pt", "ru"):
        texts.update(dict.fromkeys(
            data.joinpath(f"bait/{language}.txt").read_text("utf-8").splitlines()))
    for known in datasets.CORPORA:
        texts.update(dict.fromkeys(sample.text for sample in known.load(root)))
    texts.update(dict.fromkeys(features._PROBES))
    for path in sorted(tests.glob("*.py")):
        texts.update(dict.fromkeys(
            node.value for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and len(node.value) < 5000))
    rng = random.Random(44)
    words = [w for text in list(texts)[:3000] for w in text.split()][:20000]
    for _ in range(25000):
        parts = []
        for _ in range(rng.randint(1, 30)):
            roll = rng.random()
            if roll < 0.4 and words:
                parts.append(rng.choice(words))
            elif roll < 0.55:
                parts.append(" ".join(rng.choice(POOLS[0] + POOLS[1])))
            else:
                pool = rng.choice(POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        glue = rng.choice(["", " ", ".", "-"]) if rng.random() < 0.3 else " "
        texts[glue.join(parts)] = None
    for _ in range(3000):
        texts["".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 60)))] = None
    return list(texts)


def digests(texts: list[str]) -> list[str]:
    views = [_view(text) for text in texts]
    rng = random.Random(7)
    messages = []
    for text, view in zip(texts, views, strict=True):
        names = tuple(rng.sample(text.split(), 1)) if text.split() and rng.random() < 0.2 else ()
        messages.append((view, tuple(n for n in names if n in view.prose_skeleton)))
    alone = [features._hashed_parts([message], features.BITS)[0] for message in messages]
    together = []
    for start in range(0, len(messages), 500):
        together += features._hashed_parts(messages[start:start + 500], features.BITS)
    out = []
    for view, one, many in zip(views, alone, together, strict=True):
        digest = hashlib.blake2b(digest_size=8)
        for part in ("|".join(cues.cues(view)).encode(), cues.dense(view).tobytes(),
                     features.buckets(view).tobytes(), *(a.tobytes() for a in (*one, *many))):
            digest.update(part)
            digest.update(b"\x00")
        out.append(digest.hexdigest())
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, default=Path(__file__).parents[1] / "tests")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = corpus(args.tests, args.datasets)
    args.out.write_text("\n".join(digests(texts)) + "\n")
    print(f"{len(texts):,} texts ({sum(map(str.isascii, texts)):,} of ASCII) -> {args.out}")
