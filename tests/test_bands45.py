"""Session 45's ``bands45``: a new text's band keys for less, every key the same.

``bulk.band_keys`` makes its (pairs × permutations) product in 64 bits with each
permutation shifted up 32 bits (``bulk._affine``): the values come out in their words'
high halves, and the CRCs read the words' bytes from four bytes in, so no array is cast
between 32 and 64 bits (``[::2]`` of the lanes, ``astype`` of the least values).
``benchmarks/band_keys.py`` counts a new text's keys and compares every key of a corpus
(the cold load's texts, every real set's, hostile ones) with another tree's code.
"""

from __future__ import annotations

import functools
import random
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spimguard.detectors import bulk
from spimguard.detectors.bulk import band_keys

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import band_keys as band_keys_benchmark


def _numpy_calls(call: Callable[[], Any]) -> list[str]:
    """The names of the numpy functions and methods ``call`` calls from Python."""
    found: list[str] = []

    def seen(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            owner = getattr(arg, "__self__", None)
            module = getattr(arg, "__module__", None) or ""
            if isinstance(owner, np.ndarray | np.ufunc) or module.startswith("numpy"):
                found.append(arg.__name__)

    sys.setprofile(seen)
    try:
        call()
    finally:
        sys.setprofile(None)
    return found


def test_a_new_texts_keys_cast_no_array() -> None:
    """Four numpy calls a new text, at 5 words and at 500: the lanes read as they are, the
    product, its least values, their bytes (no ``astype``: base's fifth)."""
    band_keys(["warm", "the", "permutations", "and", "parts"], 6, 5)
    for size in (5, 500):
        words = [f"w{size}x{i}" for i in range(size)]
        calls = _numpy_calls(functools.partial(band_keys, words, 6, 5))
        assert calls == ["frombuffer", "outer", "reduce", "tobytes"]


@pytest.mark.parametrize("count", [1, 3, 12, 30])
def test_the_shifted_products_are_each_permutations_value(count: int) -> None:
    """(a·2**32)·h + b·2**32 mod 2**64 is (a·h + b mod 2**32)·2**32 for every hash, the
    extremes too; the extra permutation's value is 0 (the four zero bytes after the last)."""
    a, b = bulk._permutations(count)
    high_a, high_b = bulk._affine(count)
    assert high_a.dtype == high_b.dtype == np.uint64 and len(high_a) == count + 1
    rng = random.Random(count)
    hashes = np.array([0, 1, 0xFFFFFFFF, *(rng.getrandbits(32) for _ in range(200))],
                      np.uint64)
    shifted = np.multiply.outer(hashes, high_a) + high_b
    plain = np.multiply.outer(hashes.astype(np.uint32), a) + b
    assert (shifted[:, :count] >> np.uint64(32)).tolist() == plain.tolist()
    assert not shifted[:, count].any()


def _keys_as_before(words: list[str], bands: int, rows: int) -> tuple[str, ...]:
    """Session 44's formula: 32-bit products, their least values cast to 64 bits."""
    a, b = bulk._permutations(bands * rows)
    values = (np.multiply.outer(bulk._mixed(words).astype(np.uint32), a) + b).min(axis=0) \
        if len(words) > 1 else np.full(bands * rows, 0xFFFFFFFF, np.uint32)
    raw, width = values.astype(np.uint64).tobytes(), rows * 8
    return tuple(f"bulk:{i}:{zlib.crc32(raw[i * width:(i + 1) * width]):08x}"
                 for i in range(bands))


@pytest.mark.parametrize("bands, rows", [(6, 5), (4, 3), (1, 1), (8, 8)])
def test_hostile_words_keep_their_keys(bands: int, rows: int) -> None:
    """Long, repeated, wide, odd-script texts (the benchmark's hostile ones) and no words or
    one: every setting's keys as session 44's formula gave them."""
    fillers = bulk._fillers(bulk.BulkSettings().fillers)
    for text in band_keys_benchmark.hostile():
        words = bulk._words(text, fillers)
        for part in (words, words[:1], [], words[:2]):
            assert bulk._band_parts(bands, rows)[0][1].start == 4
            assert band_keys(part, bands, rows) == _keys_as_before(part, bands, rows)


def test_the_benchmarks_digest_is_the_same_by_another_trees_code(tmp_path: Path) -> None:
    """``band_keys.base_digest`` runs ``digest`` with another ``src`` in a child: this
    tree's own gives this process's digest."""
    texts = [*band_keys_benchmark.hostile()[:6], "call now for your free ringtone", "a b c"]
    src = Path(bulk.__file__).resolve().parents[2]
    assert band_keys_benchmark.base_digest(texts, src) == band_keys_benchmark.digest(texts)
