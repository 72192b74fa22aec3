"""Varied texts for the text view's golden test: the simulator's chat lines, small samples
of the shared public datasets (read where they are, never copied into the repository) and
generated disguises (leet, confusables, zero-width, defanged and spaced links, IDN, CJK,
emoji, RTL). Each text has a stable key, so a changed view names the text it changed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from conftest import shared_datasets

DATASETS = shared_datasets()
CHAT = Path(__file__).resolve().parents[1] / "src/spimguard/data/sim/chat.tsv"

_SAMPLES = 40  # texts per dataset


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8", errors="replace").splitlines()


def _every(items: list[str], count: int) -> list[str]:
    """``count`` items spread evenly over the file, so every part of it is sampled."""
    step = max(1, len(items) // count)
    return items[::step][:count]


def _csv_column(path: Path, column: int, skip_header: bool = True) -> list[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.reader(handle))
    return [row[column] for row in rows[1 if skip_header else 0:] if len(row) > column]


def _dataset_texts(root: Path) -> Iterator[tuple[str, list[str]]]:
    yield "sms", [line.split("\t", 1)[1] for line in
                  _lines(root / "sms-spam-collection/SMSSpamCollection") if "\t" in line]
    yield "smishing", _csv_column(root / "sms-phishing-mishra-soni/Dataset_5971.csv", 1)
    yield "indonesian", _csv_column(
        root / "indonesian-sms-spam-rahmi-wibisono/dataset_sms_spam_v1.csv", 0)
    yield "telegram", [line for line in _lines(
        root / "telegram-ru-spam-talyguryn-antispambot/antispam/data/spam.txt") if line]
    yield "thai", [line.split("|", 1)[1] for line in
                   _lines(root / "thai-sms-spam-ssivakorn/data/raw_data/2022.txt")
                   if "|" in line]
    yield "janitr", [json.loads(line)["text"] for line in
                     _lines(root / "janitr-x-crypto-scam/data/sample.jsonl") if line]
    yield "phishing-url", _csv_column(
        root / "web-page-phishing-hannousse-yahiouche/dataset_phishing.csv", 0)
    yield "discord-domain", _lines(root / "discord-phishing-links-nikolaischunk/txt/"
                                   "domain-list.txt")


GENERATED = (
    "FR33 R1NGT0NES at r1ngt0nes dot com", "c@ll n0w 4 fr33 $tuff!!!", "win $$$ 100%",
    "frее ringtоnes", "fr\u200bee ring\u200dtones", "ｆｒｅｅ　ｒｉｎｇｔｏｎｅｓ",
    "\u202efree\u202c ringtones", "frée ríngtones", "visit bit[.]ly/abc or promo(dot)com",
    "promo {dot} net and shop . com and a . b", "see http://10.1.2.3:8080/x?y=1",
    "https://live.com@evil.com/login", "pаypal.com/verify", "http://xn--pypal-4ve.com/",
    "notes.txt e.g. i.e. 3.14 v1.2.3", "hi @bob and @amy, 2 tickets for 19:30 on 12/05",
    "你好世界 😀 看看 www.例子.中国", "Привет, заходи на сайт пример.рф",
    "مرحبا بك في موقعنا example.com",
    "שלום 🙂 ‏test‏ example.org", "emoji 🎉🎉🎉 party.io!!!", "a1 " + "1@" * 40,
    "x" * 600, "1@" * 300, "http://" * 30, "dot com " * 30, "." * 200, "a." * 150,
    "mix3d l33t w0rds w1th numb3rs 2024 and 4ever", "email me: bob.smith@mail.example.com",
    "WWW.SHOUTING.COM/PATH?A=B", "trailing punctuation (see foo.com).", "«quoted» foo.org…",
    "ftp://files.example.net/x.zip", "https://example.com:99999/", "https://[::1]/x",
    "tab\tseparated\nnew\nlines  and   spaces", "", " ", "\u200b", "A\u0301\u0302\u0303 combining",
    "Ⓕⓡⓔⓔ 𝐫𝐢𝐧𝐠𝐭𝐨𝐧𝐞𝐬", "sub.domain.co.uk/path and another.sub.domain.co.uk",
    "example . com", "example.c om", "1.2.3.4 and 999.1.1.1", "$5 for 3 r1ngt0ne$",
)


def texts() -> Iterator[tuple[str, str]]:
    """(key, text) pairs; dataset samples only where the datasets are present."""
    for number, line in enumerate(_lines(CHAT)):
        yield f"chat:{number}", line.split("\t", 1)[-1]
    if DATASETS is not None:
        for name, items in _dataset_texts(DATASETS):
            for number, text in enumerate(_every(items, _SAMPLES)):
                yield f"{name}:{number}", text
    for number, text in enumerate(GENERATED):
        yield f"generated:{number}", text
