"""Red team, session 33: a pitch padded with filler words is still one campaign (``respin33``).

Measured on main (session 32's release) before the change: 200 copies of one pitch, each
with its own filler ("really", "just", "literally", "so") after about a quarter of the
words, sent by 200 accounts to one recipient each, left the engine's largest cluster at 21,
15, 15 (decayed) copies of 200 (seeds 1-3; 26, 18 on seeds 4-5): each filler broke two of
the word pairs the bulk detector's MinHash is taken over. Fillers are now no words to it
(``BulkSettings.fillers``): 182 of 200 (every copy, decayed over the 1,000 s they took), on
seeds 1-5. The ham price, on the real sets' distinct ham texts (``benchmarks/bulk.py``), is
in docs/red-team-log.md.

Left open (strict xfails, with the numbers): padding with words a sentence does need ("the",
"a"), and synonyms spun per copy (``test_attack_session32_content``).
"""

from __future__ import annotations

import pytest

from conftest import T0, clusters_at, config, message
from spimguard import open_engine
from spimguard.detectors.base import settings
from spimguard.detectors.bulk import BulkSettings, text_keys
from spimguard.text import names_of, view
from test_attack_session32_content import NAMES, _padded, _plain


def _campaign(copies: list[str]) -> float:
    """The (decayed) copies the engine's cluster of the unpadded pitch counts, once each
    copy came from its own account to its own recipient, five seconds apart."""
    engine = open_engine(config())
    for n, (text, name) in enumerate(zip(copies, NAMES, strict=True)):
        engine.process(message(engine.config, f"c{n}", f"acct{n}", [name], text, T0 + n * 5))
    keys = text_keys(view(_plain(NAMES[0])), names_of(NAMES[:1]), BulkSettings())
    assert keys is not None
    held = clusters_at(engine, keys, T0 + 1_000)
    return max((cluster.messages for cluster in held), default=0.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pitch_padded_with_fillers_is_one_campaign(seed: int) -> None:
    assert _campaign(_padded(seed)) >= 150


def test_fillers_alone_are_too_few_words_to_cluster() -> None:
    """"so so really just ok" says "ok": a chat reply, not a text to count copies of."""
    cfg = BulkSettings()
    assert text_keys(view("so so really just ok"), (), cfg) is None
    assert text_keys(view("so we really just meet at noon"), (), cfg) is not None


def test_an_operator_adds_the_fillers_of_its_language() -> None:
    """Configured words are read as texts' words are (folded: "Beneran" is "beneran")."""
    cfg = settings("bulk", BulkSettings, {"fillers": ["Beneran", "banget"]})
    plain = "aku dapat 4000 dolar minggu ini dari trading kripto, chat aku ya"
    padded = "aku beneran dapat 4000 dolar minggu ini banget dari trading kripto, chat aku ya"
    assert text_keys(view(padded), (), cfg) == text_keys(view(plain), (), cfg)
    assert text_keys(view(padded), (), BulkSettings()) != text_keys(view(plain), (), cfg)


@pytest.mark.xfail(strict=True, reason=(
    "padding with words a sentence needs ('the', 'a' after a quarter of the words) breaks "
    "two word pairs each, as fillers did: the engine's cluster of 200 such copies holds 19.2 "
    "(seed 1; 13.0-20.7 on seeds 2-5; 20.2, 22.9-25.5 before padding34, whose masks no "
    "longer words left the pitch fewer pairs). Dropping every function word from the pairs "
    "would see through it (and joined no more distinct ham of the real sets: 45 pairs of UCI SMS "
    "for 54), but spun copies would lose the pairs of common words they share: largest "
    "shared band key 12-18 of 200, from 35-52"))
def test_a_pitch_padded_with_articles_is_one_campaign() -> None:
    assert _campaign(_padded(1, ["the", "a"])) >= 150
