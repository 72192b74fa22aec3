"""A new text's content features for less (session 44, ``features44``): every cheap test
that guards a dearer one in ``model/cues`` and ``model/features`` is true whenever the
dearer one is, the skeleton's words given to ``cues`` change nothing, and a batch's keys
of 32 and of 64 bits give every message its own parts. The features themselves were
compared with base's over 51,335 texts (``docs/speed-log.md``, the fortieth pass)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from spimguard.model import cues as cue_module
from spimguard.model import features
from spimguard.text import _view

# Texts at the guards' edges: ASCII and not, a long s ("ſ" matches "s" case-blind), the
# Kelvin sign, dotted capital I, currency in every form, spaced letters by every mark the
# pattern names, mixed scripts, stems, phrases and handles, and none of them.
EDGES = (
    "", " ", "ok", "see you at 5", "RS 500 now", "uſd 20", "Uſd", "50 USD today", "$5",
    "price: 5 eur", "GBP", "rp 5.000.000", "Rp5000", "руб 100", "100 РУБ", "₽ 500",
    "500 ₹ or ¥", "pRs", "hours yours first", "\u212a\u212a test", "İstanbul rs",
    "F R E E  n o w", "f.r.e.e.n.o.w", "a-b-c-d-e", "x x x x x", "x x x x", "a_b_c_d_e!",
    "c*a*s*h now", "1 2 3 4 5 6", "0.0.0.0.0", "1.2.3.4 5", "你 好 吗 你 好", "я б в г д",
    "Нaбuрaю в кoмaндy пaртнeрoв", "дoxoдом",
    "заработок без опыта, пишите в лс", "ᲀᲁᲂ test", "write me in private", "WRITE ME",
    "t.me/joinchat", "join us at t.me x", "per day 300", "สมัครเลย ฟรี 100 บาท",
    "@manager_job", "@abc", "mail me @ home", "😀😀😀", "😀 hi 😀", "ｆｒｅｅ ＵＳＤ",
    "ᴛʜᴇ ʀɪᴄʜ ᴘᴀʀᴋ", "空投 airdrop: claim 500 USDT now ✅🚀", "регистрация", "личные",
    *features._PROBES,
)


def _texts() -> list[str]:
    """``EDGES``, the bundled chat's variants (``benchmarks/text_view``) and seeded mixes
    of the characters the guards turn on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
        import text_view
    rng = random.Random(44)
    pieces = ("a", "S", "ſ", "\u212a", "я", "Ж", "ё", " ", ".", "-", "*", "_", "$", "₽",
              "usd", "Rs", "руб", "😀", "@", "🅕", "ß", "İ", "ＵＳＤ", "\u200b", "доход", "job")
    mixes = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 24)))
             for _ in range(3000)]
    return [*EDGES, *text_view.corpus(600), *mixes]


TEXTS = _texts()


def _cues_of(text: str) -> list[str]:
    return cue_module.cues(_view(text))


def test_every_guard_is_true_whenever_the_test_it_guards_is() -> None:
    """The guards' implications, one by one: each dearer test is skipped only where it
    could not have matched."""
    tables = cue_module._tables()
    assert tables.lengths[0] == min(map(len, tables.stems))
    for text in TEXTS:
        view = _view(text)
        prose, folded = view.prose, view.prose.casefold()
        if cue_module._MIXED_WORD.findall(folded):
            assert not folded.isascii() and cue_module._CYRILLIC.search(folded), text
        if cue_module._SPACED.search(prose):
            assert cue_module._SPACED_HINT.search(prose), text
        if cue_module._HANDLE.search(prose):
            assert "@" in prose
        if cue_module._EMOJI.search(prose):
            assert not prose.isascii(), text
        for phrase, _ in tables.phrases:
            if phrase in folded:
                assert tables.any_phrase.search(folded), (text, phrase)
                if folded.isascii():
                    assert (phrase, _) in tables.ascii_phrases
                    assert (tables.spaced_phrase.search(folded)
                            or (phrase, _) in tables.unspaced), (text, phrase)
        for word in cue_module._WORD.findall(folded):
            for stem in tables.stems:
                if word.startswith(stem):
                    heads = tables.ascii_heads if folded.isascii() else tables.heads
                    assert word[:tables.lengths[0]] in heads, (text, stem)
    # And they let through what they must: a guard too strict would lose these.
    assert "money" in features.shape_tokens(_view("uſd 20"))  # not ASCII: the pattern's way
    assert "money" in features.shape_tokens(_view("RS 500 now"))
    assert "money" in features.shape_tokens(_view("$5"))
    assert "money" not in features.shape_tokens(_view("hours yours first"))
    assert "cue:spaced" in _cues_of("f.r.e.e.n.o.w")
    assert "cue:spaced" not in _cues_of("x x x x")
    # Runs the view does not read as a word (figures, unspaced scripts): the cue's own scan.
    assert all("cue:spaced" in _cues_of(text)
               for text in ("0.0.0.0.0", "1.2.3.4 5", "你 好 吗 你 好"))
    assert "cue:mixed-script" in _cues_of("Нaбuрaю в кoмaндy пaртнeрoв")
    assert "cue:money" in _cues_of("дoxoдом")  # a stem read through the mixed word
    assert "cue:private" in _cues_of("write me in private")
    assert "cue:channel" in _cues_of("@manager_job") and "cue:channel" not in _cues_of("@abc")
    assert "cue:emoji" in _cues_of("😀😀😀") and "cue:emoji" not in _cues_of("😀 hi 😀")


def test_the_skeletons_words_given_change_no_cue() -> None:
    """``cues(view, words)`` with the skeleton's words (as ``features`` passes them) is
    ``cues(view)``: the words of the folded prose and the mixed words are still found."""
    for text in TEXTS:
        view = _view(text)
        words = features._ANY_WORD.findall(view.prose_skeleton)
        assert cue_module.cues(view, words) == cue_module.cues(view), text


@pytest.mark.parametrize("bits", [20, 24])
def test_a_batch_gives_each_message_its_own_parts_with_keys_of_32_and_64_bits(
        bits: int) -> None:
    """300 messages: at 20 bits their (message, bucket) keys fit 32 bits, at 24 they do
    not (256 messages at most); either way ``_by_message`` gives the distinct pairs in
    order, and each message's parts are those it has alone, with recipients' names
    greeted in some."""
    rng = random.Random(bits)
    docs = np.array([rng.randrange(300) for _ in range(5000)], dtype=np.int64)
    found = np.array([rng.randrange(1 << bits) for _ in range(5000)], dtype=np.uint32)
    pairs = sorted(set(zip(docs.tolist(), found.tolist(), strict=True)))
    got_docs, got_found = features._by_message(docs, found, bits, 300)
    assert list(zip(got_docs.tolist(), got_found.tolist(), strict=True)) == pairs
    assert got_docs.dtype == np.int64 and got_found.dtype == np.uint32
    views = [_view(text) for text in TEXTS[:300]]
    messages = [(view, tuple(rng.sample(view.prose_skeleton.split(), 1))
                 if view.prose_skeleton.split() and rng.random() < 0.2 else ())
                for view in views]
    together = features._hashed_parts(messages, bits)
    for message, (found_of, teachable) in zip(messages, together, strict=True):
        alone, taught = features._hashed_parts([message], bits)[0]
        assert found_of.tobytes() == alone.tobytes() and found_of.dtype == alone.dtype
        assert teachable.tobytes() == taught.tobytes()
        assert found_of.tobytes() == features.buckets(message[0], bits).tobytes()


def test_the_text_view_benchmark_counts_a_new_texts_features() -> None:
    """``text_view.py --features``' child hashes the texts' features at the batch size
    its stage names, after the view (the stage "viewed" hashes none)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
        import text_view
    texts = text_view.corpus(7)
    for stage, kept in (("viewed", 0), ("warm", 1), ("3", 7)):
        features._parts_cache.clear()
        text_view.child(7, stage)
        assert sum((features._made_of(_view(text)), features.BITS) in features._parts_cache
                   for text in texts) == kept
