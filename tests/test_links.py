"""Links, look-alikes, credential bait, lists, reputation and attachments."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import T0, config, established, event, message
from spimguard import accounts, lists, open_engine
from spimguard.cli import app
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.lookalike import Brands, one_edit
from spimguard.state.ops import Count, Distinct
from spimguard.text import view


def links_engine(**detectors: dict) -> Engine:
    """Verdicts from the link-side detectors only."""
    off = {"enabled": False}
    return open_engine(config(detectors={"content": off, "velocity": off, "bulk": off,
                                         "takeover": off, **detectors}))


def codes(engine: Engine, text: str, id: str = "m", sender: str = "a", ts: float = T0,
          **extra: object) -> set[str]:
    verdict = engine.process(message(engine.config, id, sender, ["b"], text, ts, **extra))
    return {s.code for s in verdict.signals}


BRANDS = Brands(["paypal.com", "live.com", "google.com", "amazon.com", "netflix.com",
                 "facebook.com", "microsoft.com", "apple.com"])


@pytest.mark.parametrize("host", [
    "paypa1.com", "pаypal.com", "xn--pypal-4ve.com", "g00gle.com", "googgle.com",
    "arnazon.com", "paypai.com", "faceb00k.com", "rnicrosoft.com", "login-live.com",
    "paypal.com.account-verify.info", "secure-netflix-billing.com", "paypal.xyz",
    "appel.com", "netf1ix.net"])
def test_lookalikes_are_caught(host: str) -> None:
    url = view(f"https://{host}/x").urls[0]
    assert BRANDS.match(url.host, url.host_unicode, url.domain), host


@pytest.mark.parametrize("host", [
    "paypal.com", "www.paypal.com", "google.de", "amazon.co.uk", "live-music.com",
    "livescore.com", "apple.com.cn", "pineapple.com", "googleusercontent.com", "facebookmail.com",
    "example.com"])
def test_real_and_unrelated_domains_are_not(host: str) -> None:
    url = view(f"https://{host}/x").urls[0]
    assert BRANDS.match(url.host, url.host_unicode, url.domain) is None, host


def test_one_edit() -> None:
    assert one_edit("paypal", "paypai") and one_edit("paypal", "papyal")
    assert not one_edit("icloud", "ccloud")  # c and i do not look alike
    assert one_edit("paypal", "paypall") and one_edit("paypal", "paypl")
    assert not one_edit("paypal", "paypal") and not one_edit("paypal", "pyapla")


@pytest.mark.parametrize("text", [
    "Your account will be suspended. Verify your account: https://paypa1.com/login",
    "Ваш аккаунт будет заблокирован, подтвердите аккаунт: https://paypa1.com/x",
    "Su cuenta será suspendida, verifique su cuenta en https://paypa1.com",
    "Sua conta será bloqueada, verifique sua conta em https://paypa1.com",
    "Akun anda akan diblokir, verifikasi akun di https://paypa1.com",
    "V3R1FY Y0UR ACC0UNT at https://paypa1.com"])
def test_bait_with_lookalike_holds_in_every_language(text: str) -> None:
    engine = links_engine()
    verdict = engine.process(message(engine.config, "m", "a", ["b"], text))
    assert {"PHISH_CREDENTIALS", "PHISH_LOOKALIKE"} <= {s.code for s in verdict.signals}
    assert verdict.action in ("hold", "block")


def test_link_tricks() -> None:
    engine = links_engine()
    assert "LINK_USERINFO" in codes(engine, "https://live.com@evil.com/login", "1")
    assert "LINK_IP_HOST" in codes(engine, "http://203.0.113.9/x", "2")
    assert "LINK_SHORTENER" in codes(engine, "see bit.ly/3xYz", "3")
    assert codes(engine, "your password is safe with me, see https://example.org", "4") == {
        "PHISH_CREDENTIALS"}
    assert codes(engine, "enter your password to unlock the phone", "5") == set()  # no link
    assert codes(engine, "lunch at https://www.google.com/maps", "6") == set()


def test_lists_match_every_level_and_allow_beats_reputation_not_block(tmp_path: Path) -> None:
    engine = links_engine()
    block = lists.parse("# phishing\nevil.example.com\n0.0.0.0 ads.tracker.net\n", "domains")
    assert block == ["evil.example.com"]  # "0.0.0.0 x" is not a domain line
    hosts = lists.parse("0.0.0.0 ads.tracker.net\n127.0.0.1 localhost\n", "hosts")
    urls = lists.parse("https://phish.example.org/login?x=1\nnot a url at all\n", "urls")
    table = lists.parse("id,url\n1,http://bad.example.net/a\n", "csv")
    engine.write_state([lists_write("block", block + hosts + urls + table)])
    for i, host in enumerate(["a.b.evil.example.com", "ads.tracker.net", "phish.example.org",
                              "x.bad.example.net"]):
        verdict = engine.process(message(engine.config, f"b{i}", "a", ["b"], f"https://{host}/"))
        assert verdict.action == "block", host
    assert engine.process(message(engine.config, "ok", "a", ["b"],
                                  "https://example.com/")).action == "deliver"
    engine.write_state([lists_write("allow", ["fresh-promo.biz"]),
                        lists_write("block", ["blocked.fresh-promo.biz"])])
    spread = [engine.process(message(engine.config, f"s{i}", f"u{i}", ["v"],
                                     "see https://fresh-promo.biz/", T0 + i))
              for i in range(40)]
    assert all("LINK_REPUTATION" not in {s.code for s in v.signals} for v in spread)
    blocked = engine.process(message(engine.config, "bb", "a", ["b"],
                                     "https://blocked.fresh-promo.biz/"))
    assert blocked.action == "block"
    with pytest.raises(BadInput):
        lists.parse("name\nx\n", "csv")
    with pytest.raises(BadInput):
        lists.parse("nothex\n", "sha256")


def lists_write(name: str, entries: list[str]):  # type: ignore[no-untyped-def]
    from spimguard.state.ops import Touch

    return Touch(lists.key(name), tuple(entries), 1e9, lists.MAX_ENTRIES)


def test_lists_import_command(tmp_path: Path) -> None:
    source = tmp_path / "phish.txt"
    source.write_text("evil.example.com\nbad.example.net\n")
    runner = CliRunner()
    result = runner.invoke(app, ["lists", "import", str(source), "--kind", "domains",
                                 "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0 and "2 entries" in result.output, result.output
    result = runner.invoke(app, ["check", "https://www.evil.example.com/x", "--recipient",
                                 "b", "--data-dir", str(tmp_path / "d")])
    assert '"action": "block"' in result.output
    result = runner.invoke(app, ["lists", "import", str(source), "--kind", "nope",
                                 "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2


def test_reputation_fresh_domain_pushed_by_many_then_reported() -> None:
    engine = links_engine()
    established(engine, "f1", "f2", "f3")
    engine.write_state([lists_write("popular", ["youtube.com"])])
    last = None
    for i in range(30):  # thirty accounts push one new domain within minutes
        last = engine.process(message(engine.config, f"p{i}", f"victim{i}", [f"f{i}"],
                                      f"cool tones at https://tones-{0}.biz/r{i}", T0 + i))
    assert last is not None
    signal = next(s for s in last.signals if s.code == "LINK_REPUTATION")
    assert "never seen" not in signal.detail and "accounts" in signal.detail
    assert last.action == "warn"  # spread alone warns, never holds
    engine.process(event(engine.config, type="report", id="r1", ts=T0 + 40, reporter="f1",
                         message_id="p1", label="spam"))
    engine.process(event(engine.config, type="report", id="r2", ts=T0 + 41, reporter="f2",
                         message_id="p2", label="spam"))
    engine.process(event(engine.config, type="report", id="r3", ts=T0 + 42, reporter="f3",
                         message_id="p3", label="spam"))
    after = engine.process(message(engine.config, "late", "someone", ["x"],
                                   "https://tones-0.biz/", T0 + 60))
    assert after.action in ("hold", "block")
    popular = [engine.process(message(engine.config, f"y{i}", f"fan{i}", ["x"],
                                      "https://www.youtube.com/watch?v=1", T0 + i))
               for i in range(40)]
    assert all(v.action == "deliver" for v in popular)


def test_reports_on_a_short_link_mark_that_link_not_the_shortener() -> None:
    """A shortener's domain is everyone's: reputation is kept for the short link itself,
    through the verdict log to a report that names the message hours later."""
    engine = links_engine()
    established(engine, "f1", "f2", "f3")
    for i in range(3):
        engine.process(message(engine.config, f"p{i}", "pusher", [f"f{i + 1}"],
                               "your parcel is waiting: https://bit.ly/3parcel", T0 + i))
        engine.process(event(engine.config, type="report", id=f"r{i}", ts=T0 + 40 + i,
                             reporter=f"f{i + 1}", message_id=f"p{i}", label="spam"))
    assert "LINK_REPUTATION" in codes(engine, "look https://bit.ly/3parcel", "x", "y", T0 + 60)
    assert "LINK_REPUTATION" not in codes(engine, "the slides: https://bit.ly/3xTalk", "z",
                                          "w", T0 + 61)


def test_reports_on_a_users_own_name_mark_the_name_whatever_the_path() -> None:
    """Under a free host or dynamic DNS the user's page is its own name (the host), which
    the user chose: a path varied per message must not escape what reports taught, and a
    neighbour's name under the same service stays clean."""
    engine = links_engine()
    established(engine, "f1", "f2", "f3")
    for i in range(3):
        engine.process(message(engine.config, f"p{i}", "pusher", [f"f{i + 1}"],
                               f"win a phone: https://promo.duckdns.org/d{i}", T0 + i))
        engine.process(event(engine.config, type="report", id=f"r{i}", ts=T0 + 40 + i,
                             reporter=f"f{i + 1}", message_id=f"p{i}", label="spam"))
    assert "LINK_REPUTATION" in codes(engine, "look https://promo.duckdns.org/d99", "x",
                                      "y", T0 + 60)
    assert "LINK_REPUTATION" not in codes(engine, "my nas: https://home.duckdns.org/d1",
                                          "z", "w", T0 + 61)


def test_a_group_conversation_is_one_recipient_of_a_domain() -> None:
    """Reputation's work per message is bounded whatever the room's size (as velocity's):
    a message to a 500-member room is one recipient, the room, and no stranger."""
    engine = links_engine()
    members = [f"m{i}" for i in range(500)]
    engine.process(message(engine.config, "room", "m0", members[1:],
                           "minutes are on https://club-notes.example.org/today", T0,
                           conversation="club"))
    reached, pushed = engine.read_state([Distinct("rep:recipients:example.org", 3600.0),
                                         Distinct("rep:strangers:example.org", 3600.0)])
    assert (reached, pushed) == (1, 0)


def test_a_broadcasts_reach_is_its_people_whether_named_or_counted() -> None:
    """Past the ties cap (``accounts.MAX_TIES``) a message's recipients are counted, not
    named, for each of its domains (8 links to 10,000 people wrote 160,000 members): the
    spread measure's answers stay those naming every one gave. Six senders each write a
    fresh link to a friend (who lists them back) and 100 people of their own, the first
    listed twice: the sixth sees 5 senders, 505 recipients, 500 of them strangers."""
    engine = links_engine()
    link = "deals today https://fresh-deals.example.net/a"
    for i in range(6):
        for me, other in ((f"s{i}", f"f{i}"), (f"f{i}", f"s{i}")):
            engine.process(event(engine.config, type="contacts", id=f"c-{me}", ts=T0,
                                 account=me, contacts=[other]))
        people = [f"p{i}-{k}" for k in range(100)]
        verdict = engine.process(message(engine.config, f"b{i}", f"s{i}",
                                         [people[0], f"f{i}", *people], link, T0 + i))
    reached, strangers, counted = engine.read_state([
        Distinct("rep:recipients:example.net", 3600.0),
        Distinct("rep:strangers:example.net", 3600.0),
        Count("rep:unnamed:example.net", 3600.0)])
    assert (reached + counted, strangers + counted) == (606, 600)
    assert reached <= 6 * accounts.MAX_TIES  # named as far as the ties are read
    said = [s.detail for s in verdict.signals if s.code == "LINK_REPUTATION"]
    assert said and "sent by 5 accounts to 101.0 recipients each (100% push)" in said[0]


def test_attachments() -> None:
    engine = links_engine()
    digest = "ab" * 32
    engine.write_state([lists_write("sha256", [digest])])
    cases = {
        "photo.jpg.exe": "ATTACHMENT_DOUBLE_EXTENSION", "invoice.pdf .scr":
        "ATTACHMENT_DOUBLE_EXTENSION", "setup.exe.zip": "ATTACHMENT_DOUBLE_EXTENSION",
        "tool.exe": "ATTACHMENT_EXECUTABLE", "run.ps1": "ATTACHMENT_EXECUTABLE"}
    for i, (name, code) in enumerate(cases.items()):
        found = codes(engine, "see this", f"a{i}", attachments=[{"name": name}])
        assert found == {code}, name
    assert codes(engine, "pics", "ok", attachments=[{"name": "holiday.jpg"},
                                                    {"name": "notes.tar.gz"}]) == set()
    verdict = engine.process(message(engine.config, "bad", "a", ["b"], "x",
                                     attachments=[{"name": "cat.png", "sha256": digest.upper()}]))
    assert verdict.action == "block"


def test_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every link check runs with name resolution and connections made impossible."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("spimguard tried to use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    engine = open_engine(config())
    texts = ["https://paypa1.com/login verify your account", "bit.ly/abc", "http://10.0.0.1/",
             "https://live.com@evil.com/", "xn--pypal-4ve.com", "tones dot com", "https://t.co/x"]
    for i, text in enumerate(texts):
        engine.process(message(engine.config, f"n{i}", "a", ["b"], text))


def test_a_repeated_broadcast_raises_no_domains_reach_past_the_named_ceiling() -> None:
    """The people past the ties cap are counted, and counted again at each message (a
    name is not): accounts repeating one broadcast of a link must not take the domain's
    reach past ``recipients_cap``, the ceiling naming everyone had. Five send it twice to
    the same 200 people: 64 named, 1,360 counted, 300 at most."""
    engine = links_engine(reputation={"recipients_cap": 300})
    link = "see https://our-bakery.example.org/menu"
    people = [f"p{k}" for k in range(200)]
    for i in range(10):
        engine.process(message(engine.config, f"b{i}", f"m{i % 5}", people, link, T0 + i))
    verdict = engine.process(message(engine.config, "f", "friend", ["pal"], link, T0 + 10))
    said = [s.detail for s in verdict.signals if s.code == "LINK_REPUTATION"]
    assert said and "sent by 5 accounts to 60.0 recipients each" in said[0], said
