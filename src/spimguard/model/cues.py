"""What spim does on every platform, as tokens that do not depend on one corpus's words.

A model of character n-grams learns the vocabulary of the corpora it saw: SMS
ringtones, Indonesian lottery prizes. What a pitch must do is the same on SMS,
X and Telegram, in any language, because it is the pitch's job: get the reader
to act (call, write, click, join), away from where they are (a handle, "write
me in private", a channel), for money (an offer, a wage, crypto), past a filter
(spaced letters, mixed scripts, emoji walls). A friend's message may do one of
these; a pitch does several. Each cue is one token, so the model weighs them
like any feature, and a few co-occurring cues ("cues:3+") carry over to a
language whose words it never saw.

Not cues: links and shorteners (the training sets are SMS from before people
shared links, where a link meant spam, and friends share links all day: links
are the links and reputation detectors' job, as for the hashed features), and
the message's script (a token per script learns each corpus's share of spam,
Thai SMS's 41 %, not anything a Thai pitch does; the character n-grams already
see every script).

Word lists are short, multilingual and about the act, never a campaign's topic;
they are matched on the skeleton (homoglyphs and leetspeak already folded).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import numpy as np

from ..text import MessageView

# Each cue: whole words, word stems (a word starting with one), and phrases or
# unspaced-script strings found anywhere in the text. Sets and substring tests:
# a dozen alternations tried at every position cost a millisecond a message.
_CUE_WORDS: dict[str, tuple[str, str, str]] = {
    # Get the reader to act now. Not "write" alone, in any language: friends ask each
    # other to write all day; "write me in private" is the cue ("private").
    "act": ("click tap call text reply send claim join subscribe register signup apply visit "
            "download install hurry urgent limited expires expire жми нажми переходи перейди "
            "звони звоните подпишись подписывайтесь вступай успей срочно "
            "klik hubungi daftar kunjungi segera balas ketik",
            "регистр",
            "act now|sign up|กด|คลิก|สมัคร|แอด|ทัก|ด่วน"),
    # Move the conversation where no filter sees it.
    "private": ("dm pm inbox whatsapp telegram viber wechat лс личку личные директ телеграм "
                "ватсап вотсап japri",
                "личн",
                "direct message|private message|in private|write me|write to me|contact me|"
                "line id|add line|пишите в|пиши в|напиши в|напишите в|chat aku|ไลน์|ทักแชท"),
    # Money for the reader: a wage, a prize, a loan, a bonus.
    "money": ("earn earning earnings income profit salary daily weekly prize winner cash reward "
              "bonus loan credit free usd usdt eur rub руб rp hadiah pemenang gratis pinjaman "
              "penghasilan",
              "доход заработ подработ зарплат оплат выплат приз выигр бонус бесплатн кредит "
              "займ",
              "per day|per week|per hour|a day|в день|в неделю|в час|$|£|€|₽|฿|₹|บาท|ฟรี|"
              "เครดิต|โบนัส|รางวัล|เงินกู้|รายได้"),
    # A job offer to strangers: the commonest lure of group chats.
    "job": ("job jobs hiring vacancy vacancies lowongan kerja karyawan",
            "работ ваканс набира набор сотрудни удален удалён партнер партнёр",
            "work from home|remote work|part time|part-time|no experience|без опыта|งาน|"
            "รับสมัคร"),
    "crypto": ("crypto bitcoin btc eth usdt usdc token tokens airdrop wallet nft defi binance",
               "крипт кошел биткоин трейд арбитраж",
               "seed phrase"),
    "channel": ("channel group community канал группу группа чат",
                "",
                "join us|t.me/|t.me "),
}
_WORD = re.compile(r"\w+")
_HANDLE = re.compile(r"@\w{4,}")
_SPACED = re.compile(r"(?:\b\w[ .*_-]){4,}\w\b")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")
_MIXED_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[а-яё])\w+\b", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)  # what ``_MIXED_WORD``'s second lookahead needs
# What every match of ``_SPACED`` holds from its first blank to its fourth: a scan that
# starts at a blank, which the regex engine skips to without trying each position.
_SPACED_HINT = re.compile(r"[ .*_-]\w[ .*_-]\w[ .*_-]\w[ .*_-]")
# Words of one letter any match of ``_SPACED`` holds: each of its first three letters (a
# ``\b`` before it, a blank but "_" after it, since the next letter follows a ``\b``),
# and either the fourth and the fifth or, where "_" joins them, neither. A text of ASCII
# with fewer is not scanned at all (most chat lines: ``_SPACED_HINT`` cost ~6,500
# instructions a text).
_SPACED_SINGLES = 3
# Where a byte is a word's (``\w`` of ASCII, or any byte of UTF-8's other characters) it is
# kept, else blanked: ``translate`` and ``split`` find the same runs as ``\w+`` on ASCII text,
# in C, at a fraction of the regex's scan (``ascii_words``; ``features._words`` too).
WORD_BYTES = bytes(byte if byte >= 0x80 or chr(byte).isalnum() or byte == ord("_") else 0x20
                   for byte in range(256))
# Latin look-alikes written inside Cyrillic words ("Нaбuрaю"), read back as Cyrillic.
_TO_CYRILLIC = str.maketrans("aeopcyxkmthbu", "аеорсухкмтнви")


def ascii_words(text: str) -> list[str]:
    """``_WORD.findall(text)`` of an ASCII ``text``, by ``WORD_BYTES``."""
    return text.encode("ascii").translate(WORD_BYTES).decode("ascii").split()


class _Tables(NamedTuple):
    """``_CUE_WORDS`` as looked up: words and stems apart (a word of ``_WORD`` is never a
    stem's key, nor a stem a word's), and the few tests a text can fail cheaply first."""

    words: dict[str, str]  # a listed word -> its cue
    listed: frozenset[str]  # ``words``' keys: a text's words met with them in C
    stems: dict[str, str]  # a stem -> its cue
    lengths: tuple[int, ...]  # the stems' lengths, shortest first
    heads: frozenset[str]  # every stem's first ``lengths[0]`` letters
    ascii_heads: frozenset[str]  # those a text of ASCII alone can hold
    phrases: tuple[tuple[str, str], ...]  # (phrase, cue)
    ascii_phrases: tuple[tuple[str, str], ...]  # those a text of ASCII alone can hold
    # Any of ``phrases``: one scan in C that most texts fail, where each phrase's own ``in``
    # is a Python step.
    any_phrase: re.Pattern[str]
    # ``ascii_phrases`` with a blank found from their first one (``_from_blank``), and
    # those with none, each looked for by ``in`` in every text of ASCII (three: ``$``, ...).
    spaced_phrase: re.Pattern[str]
    unspaced: tuple[tuple[str, str], ...]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    words: dict[str, str] = {}
    stems: dict[str, str] = {}
    phrases: list[tuple[str, str]] = []
    for name, (listed, stemmed, found_in_text) in _CUE_WORDS.items():
        words.update(dict.fromkeys(listed.split(), name))
        stems.update(dict.fromkeys(stemmed.split(), name))
        phrases += [(phrase, name) for phrase in found_in_text.split("|")]
    lengths = tuple(sorted({len(stem) for stem in stems}))
    heads = frozenset(stem[:lengths[0]] for stem in stems)
    plain = tuple(p for p in phrases if p[0].isascii())
    return _Tables(words, frozenset(words), stems, lengths, heads,
                   frozenset(filter(str.isascii, heads)), tuple(phrases), plain, _any_of(phrases),
                   _from_blank([phrase for phrase, _ in plain if " " in phrase]),
                   tuple(p for p in plain if " " not in p[0]))


def _any_of(phrases: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    """A pattern that finds any of ``phrases``, as a tree of their letters: where a flat
    alternation tries every phrase at each position that begins one, this tries the
    phrases of the letter found (~30 % fewer instructions a text; the same strings)."""
    return re.compile(_tree([phrase for phrase, _ in phrases]) or "(?!)")


def _tree(phrases: list[str]) -> str:
    """``phrases`` as an alternation by their first letter, the rests of a letter begun by
    several a tree of their own (an empty rest: a phrase that ends there)."""
    rests: dict[str, list[str]] = {}
    for phrase in phrases:
        rests.setdefault(phrase[:1], []).append(phrase[1:])
    return "|".join(re.escape(first + after[0]) if len(after) == 1
                    else f"{re.escape(first)}(?:{_tree(after)})" for first, after in rests.items())


def _from_blank(phrases: list[str]) -> re.Pattern[str]:
    """A pattern that finds any of ``phrases`` (each holding a blank) from its first blank:
    the blank, then the rest of the phrase as a tree (``_after``), and at its leaf the
    whole phrase looked back on (a fixed width). A pattern that begins with one literal
    character is searched by sre's tight loop to each of it, and only there are the
    phrases tried, where ``_any_of``'s tree tries them at every letter that begins one
    (~58 % of a chat line's characters). The same texts match: a phrase is in a text
    exactly where its first blank is, with its rest after and its start before."""
    return re.compile(" (?:" + (_after([(phrase[phrase.index(" ") + 1:], phrase)
                                        for phrase in phrases]) or "(?!)") + ")")


def _after(rests: list[tuple[str, str]]) -> str:
    """(rest, phrase) pairs as an alternation by the rests' first letters (a letter that
    begins one rest: that rest whole), each ending where its rest does in a look-behind at
    its whole phrase (``_from_blank``)."""
    ends = [f"(?<={re.escape(phrase)})" for rest, phrase in rests if not rest]
    by_first: dict[str, list[tuple[str, str]]] = {}
    for rest, phrase in rests:
        if rest:
            by_first.setdefault(rest[0], []).append((rest[1:], phrase))
    return "|".join([*ends, *(re.escape(first) + (
        f"{re.escape(after[0][0])}(?<={re.escape(after[0][1])})" if len(after) == 1
        else f"(?:{_after(after)})") for first, after in by_first.items())])


def cues(view: MessageView, words: list[str] | None = None,
         folded: str | None = None) -> list[str]:
    """The message's cue tokens: each cue it shows, and how many. ``words`` are its prose
    skeleton's (``_WORD``'s) and ``folded`` its prose casefolded, where the caller has them
    already (``features``, whose character n-grams read the folded prose too).

    A new text pays this at every message, so each test that most texts fail is
    guarded by a cheaper one that is false whenever it is: a text of ASCII holds no
    Cyrillic letter, emoji, non-ASCII stem or phrase (``str.isascii`` reads a flag); a
    word whose first letters begin no stem is not cut into stems; phrases are looked for
    one by one only in a text that holds any (one scan); a mixed word needs a Cyrillic
    letter somewhere; letters spaced out need four blanks between single characters
    (``_SPACED_HINT``, a scan that skips to the blanks in C). The tokens are those of
    the unguarded tests, bit for bit (``tests/test_features44.py``).
    """
    tables = _tables()
    prose, skeleton = view.prose, view.prose_skeleton
    # The words of the text read: the skeleton, the folded prose where it differs, and
    # the mixed words read as Cyrillic, each found apart (no word spans the blank that
    # parts them in ``text``).
    read = _WORD.findall(skeleton) if words is None else words
    seen = [read]
    folded = prose.casefold() if folded is None else folded
    text = folded
    if folded != skeleton:
        text = f"{skeleton} {folded}"
        read = ascii_words(folded) if folded.isascii() else _WORD.findall(folded)
        seen.append(read)
    mixed = ([] if folded.isascii() or _CYRILLIC.search(folded) is None
             else _MIXED_WORD.findall(folded))
    if mixed:
        cyrillic = " ".join(mixed).translate(_TO_CYRILLIC)
        text += " " + cyrillic
        seen.append(_WORD.findall(cyrillic))
    plain = text.isascii()
    listed, stems, first = tables.words, tables.stems, tables.lengths[0]
    # The text's words that are listed, met with the listed set in C (``intersection``
    # walks the words and looks each up: no set of the text's words built, and no test a
    # word in Python, where most words are no cue's).
    hit = set(map(listed.__getitem__, tables.listed.intersection(
        seen[0] if len(seen) == 1 else chain.from_iterable(seen))))
    heads = tables.ascii_heads if plain else tables.heads
    if heads:
        found_words = set(chain.from_iterable(seen))
        hit.update(stems[w[:n]] for w in found_words if w[:first] in heads
                   for n in tables.lengths if w[:n] in stems)
    # The phrases a text can hold: all, where the scan found one (a text of ASCII: one with
    # a blank), else none (a text of ASCII: those without a blank, which the scan skips).
    if plain:
        maybe = (tables.ascii_phrases if tables.spaced_phrase.search(text) else
                 tables.unspaced)
    else:
        maybe = tables.phrases if tables.any_phrase.search(text) else ()
    for phrase, name in maybe:  # a loop, not a generator's frame: most texts hold none
        if name not in hit and phrase in text:
            hit.add(name)
    found = [name for name in _CUE_WORDS if name in hit]
    if "channel" not in found and "@" in prose and _HANDLE.search(prose):
        found.append("channel")
    # Letters spaced by blanks are read as their words (``text.unspace``): the view says so.
    # ``read`` are the folded prose's words, which are the prose's where it is ASCII.
    if view.spaced or ((not prose.isascii() or list(map(len, read)).count(1) >= _SPACED_SINGLES)
                       and _SPACED_HINT.search(prose) and _SPACED.search(prose)):
        found.append("spaced")
    if not prose.isascii() and len(_EMOJI.findall(prose)) >= 3:
        found.append("emoji")
    if mixed:
        found.append("mixed-script")
    tokens = [f"cue:{name}" for name in found]
    tokens.append(f"cues:{min(len(found), 3)}{'+' if len(found) >= 3 else ''}")
    return tokens


DENSE = tuple([f"cue:{n}" for n in (*_CUE_WORDS, "spaced", "emoji", "mixed-script")]
              + ["cues:0", "cues:1", "cues:2", "cues:3+"])
_INDEX = {name: i for i, name in enumerate(DENSE)}


def dense(view: MessageView) -> np.ndarray:
    """The cue tokens as indicators in ``DENSE`` order (for a model with a cue block)."""
    out = np.zeros(len(DENSE), dtype=np.float32)
    for token in cues(view):
        out[_INDEX[token]] = 1.0
    return out
