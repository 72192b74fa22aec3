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

The script token (``script:cyrillic``) names what alphabet the message is in,
so the model can learn a base rate per script from the corpora that have it
and the out-of-distribution guard (``scorer``) can tell what it never saw.

Word lists are short, multilingual and about the act, never a campaign's topic;
they are matched on the skeleton (homoglyphs and leetspeak already folded).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ..text import MessageView

# Each cue: whole words, word stems (a word starting with one), and phrases or
# unspaced-script strings found anywhere in the text. Sets and substring tests:
# a dozen alternations tried at every position cost a millisecond a message.
_CUE_WORDS: dict[str, tuple[str, str, str]] = {
    # Get the reader to act now.
    "act": ("click tap call text reply send claim join subscribe register signup apply visit "
            "download install hurry urgent limited expires expire жми нажми переходи перейди "
            "пиши пишите напиши звони звоните подпишись подписывайтесь вступай успей срочно "
            "klik hubungi daftar kunjungi segera balas ketik",
            "регистр",
            "act now|sign up|กด|คลิก|สมัคร|แอด|ทัก|ด่วน"),
    # Move the conversation where no filter sees it.
    "private": ("dm pm inbox whatsapp telegram viber wechat лс личку личные директ телеграм "
                "ватсап вотсап japri",
                "личн",
                "direct message|private message|in private|write me|write to me|contact me|"
                "line id|add line|пишите в|chat aku|ไลน์|ทักแชท"),
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
_SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "cutt.ly", "is.gd",
                         "rb.gy", "ow.ly", "s.id", "shorturl.at", "tiny.cc", "t.ly", "clck.ru",
                         "v.gd", "bitly.com", "rebrand.ly", "lnkd.in", "u.to"})
_WORD = re.compile(r"\w+")
_HANDLE = re.compile(r"@\w{4,}")
_SPACED = re.compile(r"(?:\b\w[ .*_-]){4,}\w\b")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")
_MIXED_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[а-яё])\w+\b", re.IGNORECASE)
# Latin look-alikes written inside Cyrillic words ("Нaбuрaю"), read back as Cyrillic.
_TO_CYRILLIC = str.maketrans("aeopcyxkmthbu", "аеорсухкмтнви")
# Code points of each script (first 200 letters looked at), mapped by one translate.
_SCRIPTS = {"latin": ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)),
            "cyrillic": ((0x400, 0x52F),), "greek": ((0x370, 0x3FF),),
            "arabic": ((0x600, 0x6FF),), "hebrew": ((0x590, 0x5FF),),
            "devanagari": ((0x900, 0x97F),), "thai": ((0xE00, 0xE7F),),
            "cjk": ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF))}
_CODES = {name: chr(0xF0000 + i) for i, name in enumerate(_SCRIPTS)}


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], tuple[int, ...], tuple[tuple[str, str], ...],
                       dict[int, str]]:
    """(word or stem -> cue, stem lengths, (phrase, cue) pairs, script translate table)."""
    keys: dict[str, str] = {}
    lengths: set[int] = set()
    phrases: list[tuple[str, str]] = []
    for name, (words, stems, found_in_text) in _CUE_WORDS.items():
        keys.update(dict.fromkeys(words.split(), name))
        for stem in stems.split():
            keys[f"{stem}~"] = name
            lengths.add(len(stem))
        phrases += [(phrase, name) for phrase in found_in_text.split("|")]
    table = {c: _CODES[name] for name, ranges in _SCRIPTS.items()
             for low, high in ranges for c in range(low, high + 1)}
    return keys, tuple(sorted(lengths)), tuple(phrases), table


def script(text: str, sample: int = 200) -> str:
    """The script most of the first ``sample`` characters are in ("none" if no letters)."""
    coded = text[:sample].translate(_tables()[3])
    counts = {name: coded.count(code) for name, code in _CODES.items()}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else "none"


def cues(view: MessageView) -> list[str]:
    """The message's cue tokens: each cue it shows, how many, and its script."""
    keys, lengths, phrases, _ = _tables()
    folded = view.prose.casefold()
    text = folded if folded == view.prose_skeleton else f"{view.prose_skeleton} {folded}"
    mixed = _MIXED_WORD.findall(folded)
    if mixed:
        text += " " + " ".join(mixed).translate(_TO_CYRILLIC)
    words = set(_WORD.findall(text))
    stems = {f"{w[:n]}~" for w in words for n in lengths if len(w) >= n}
    hit = {keys[w] for w in words | stems if w in keys}
    hit.update(name for phrase, name in phrases if name not in hit and phrase in text)
    found = [name for name in _CUE_WORDS if name in hit]
    if "channel" not in found and _HANDLE.search(view.prose):
        found.append("channel")
    if any(d in _SHORTENERS for d in view.domains):
        found.append("shortener")
    if view.urls:
        found.append("link")
    if _SPACED.search(view.prose):
        found.append("spaced")
    if len(_EMOJI.findall(view.prose)) >= 3:
        found.append("emoji")
    if mixed:
        found.append("mixed-script")
    tokens = [f"cue:{name}" for name in found]
    tokens.append(f"cues:{min(len(found), 3)}{'+' if len(found) >= 3 else ''}")
    tokens.append(f"script:{script(view.prose)}")
    return tokens


DENSE = tuple([f"cue:{n}" for n in (*_CUE_WORDS, "shortener", "link", "spaced", "emoji",
                                      "mixed-script")]
              + ["cues:0", "cues:1", "cues:2", "cues:3+"]
              + [f"script:{n}" for n in (*_SCRIPTS, "none")])
_INDEX = {name: i for i, name in enumerate(DENSE)}


def dense(view: MessageView) -> np.ndarray:
    out = np.zeros(len(DENSE), dtype=np.float32)
    for token in cues(view):
        out[_INDEX[token]] = 1.0
    return out
