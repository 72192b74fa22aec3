"""Bulk near-duplicates, campaigns, confirmation by reports, evidence bundles."""

from __future__ import annotations

import io
import itertools
import json
import random
import zipfile
import zlib
from pathlib import Path

import numpy as np
from datasketch import MinHash
from typer.testing import CliRunner

from conftest import T0, Server, clusters_at, config, established, event, message
from spimguard import evidence, open_engine
from spimguard.cli import app
from spimguard.config import Config
from spimguard.detectors.base import Context, Outcome, once
from spimguard.detectors.bulk import BulkSettings, band_keys, text_keys
from spimguard.engine import Engine
from spimguard.events import Message
from spimguard.text import names_of, view

PITCH = ("Hi {name}! I found the coolest ringtones, get yours free at "
         "http://tonez-club.biz/r{n} or call 0800 555 {n:04d} <b>now</b>")


def keys(text: str, recipients: list[str]) -> set[str]:
    return set(text_keys(view(text), names_of(recipients), BulkSettings()) or ())


def test_personalised_copies_share_bands_and_chat_does_not() -> None:
    first = keys(PITCH.format(name="Alice", n=1), ["alice"])
    second = keys(PITCH.format(name="bob", n=77), ["bob"])
    assert first & second
    assert not first & keys("are we still on for dinner at the italian place tonight?", ["x"])


def test_similarity_threshold() -> None:
    """Pairs at Jaccard ~0.9 meet almost always, pairs at ~0.3 almost never (6 bands of 5)."""
    rng = random.Random(1)
    vocabulary = [f"w{i}" for i in range(5000)]

    def meet_rate(shared: int, own: int) -> float:
        met = 0
        for _ in range(200):
            common = rng.sample(vocabulary, shared)
            a = common + rng.sample(vocabulary, own)
            b = common + rng.sample(vocabulary, own)
            met += bool(set(band_keys(a, 6, 5)) & set(band_keys(b, 6, 5)))
        return met / 200

    assert meet_rate(40, 1) >= 0.95  # word pairs ~ 0.9 similar
    assert meet_rate(12, 12) <= 0.10  # ~ 0.3 similar


def datasketch_keys(words: list[str]) -> tuple[str, ...]:
    """The band keys of datasketch's affine32 MinHash (seed 20261129, CRC-32 of the word
    pairs), 6 bands of 5."""
    permutations = MinHash(num_perm=30, seed=20261129)
    sketch = MinHash(num_perm=30, hashfunc=zlib.crc32, permutations=permutations.permutations,
                     scheme="affine32")
    sketch.update_batch([f"{a} {b}".encode() for a, b in itertools.pairwise(words)])
    values = np.asarray(sketch.hashvalues, dtype=np.uint64)
    return tuple(f"bulk:{i}:{zlib.crc32(values[i * 5:(i + 1) * 5].tobytes()):08x}"
                 for i in range(6))


def test_band_keys_are_datasketchs_minhash() -> None:
    """``band_keys`` computes in numpy and in an integer's lanes (``bulk._mixed``) what
    datasketch's MinHash computes: clusters kept in state keep their band keys."""
    rng = random.Random(7)
    vocabulary = [*(f"w{i}" for i in range(300)), "<name>", "#", "<tonez-club.biz>", "привет"]
    sizes = (0, 1, 2, 5, 11, 12, 40)
    for size in sizes:
        words = [rng.choice(vocabulary) for _ in range(size)]
        assert band_keys(words, 6, 5) == datasketch_keys(words)
    long_words = ["w" * 100, "x" * 100, "y" * 100]
    assert band_keys(long_words, 6, 5) == datasketch_keys(long_words)


def campaign_engine() -> Engine:
    return open_engine(config())


def send(engine: Engine, n: int, sender: str, text: str, ts: float, to: str = ""):  # type: ignore[no-untyped-def]
    return engine.process(message(engine.config, f"c{n}", sender, [to or f"friend{n}"], text,
                                  ts))


def test_campaign_through_many_accounts_is_one_campaign() -> None:
    engine = campaign_engine()
    verdicts = [send(engine, n, f"acct{n % 50}", PITCH.format(name=f"friend{n}", n=n),
                     T0 + n * 7) for n in range(120)]
    later = verdicts[20:]
    assert sum(v.action in ("hold", "block") for v in later) / len(later) >= 0.99
    ids = {v.campaign for v in later if v.campaign}
    assert len(ids) == 1
    campaign = ids.pop()
    assert len(engine.records.campaign_messages(campaign)) >= 100


def test_a_batch_judges_a_campaign_as_its_copies_one_by_one() -> None:
    """The clusters a batch's copies put are handed to the next copy undecoded
    (``bulk._written``): the verdicts and every stored cluster are those of copies judged
    one request each, through a campaign rotating more bots than a cluster lists (its
    sketch) whose copies vary a word, so that each meets some of the bands the cluster
    was put under and not others (which still hold it as it was)."""
    words = ("today", "tonight", "quickly", "babe", "mate", "again", "please")

    def copies(cfg: Config) -> list[Message]:
        return [message(cfg, f"c{n}", f"bot{n % 45}", [f"friend{n}", f"friend{n + 1}"],
                        PITCH.format(name=f"friend{n}", n=n).replace(
                            "coolest", f"coolest {words[n % 7]} {words[n // 7 % 7]}"),
                        T0 + n * 5) for n in range(160)]

    alone, batched = campaign_engine(), campaign_engine()
    one_by_one = [alone.process(m) for m in copies(alone.config)]
    together = batched.process_batch(copies(batched.config))
    assert [(v.action, v.score, v.campaign) for v in together] == [
        (v.action, v.score, v.campaign) for v in one_by_one]
    assert sum(v.action in ("hold", "block") for v in together) > 100
    kept = {k: v for k, v in alone.state._values.items() if k.startswith("bulk:")}
    assert kept and kept == {k: v for k, v in batched.state._values.items()
                             if k.startswith("bulk:")}


def test_reports_from_three_recipients_mark_the_campaign_for_every_sender() -> None:
    engine = campaign_engine()
    established(engine, "friend1", "friend2", "friend3")
    bland = "hey {name}, you have to see this, it is really something http://look-here.biz/{n}"
    for n in (1, 2, 3):
        first = send(engine, n, f"victim{n}", bland.format(name=f"friend{n}", n=n), T0 + n)
        assert first.action in ("deliver", "warn")
    for n in (1, 2):
        engine.process(event(engine.config, type="report", id=f"r{n}", ts=T0 + 60 + n,
                             reporter=f"friend{n}", message_id=f"c{n}", label="spam"))
    early = send(engine, 4, "someone-else", bland.format(name="friend4", n=4), T0 + 90)
    assert "CAMPAIGN_CONFIRMED" not in {s.code for s in early.signals}  # two: not yet
    engine.process(event(engine.config, type="report", id="r3", ts=T0 + 100, reporter="friend3",
                         message_id="c3", label="spam"))
    later = send(engine, 5, "someone-else", bland.format(name="friend5", n=5), T0 + 120)
    assert "CAMPAIGN_CONFIRMED" in {s.code for s in later.signals}
    assert later.action in ("hold", "block") and later.campaign


def test_stray_reports_on_a_phrase_everyone_sends_confirm_nothing() -> None:
    engine = campaign_engine()
    text = "can you pick up bread on the way back"
    for i in range(400):
        engine.process(message(engine.config, f"p{i}", f"user{i}", [f"friend{i}"], text,
                               T0 + i * 5))
    for i in range(3):  # three mistaken reports among 400 copies
        engine.process(event(engine.config, type="report", id=f"r{i}", ts=T0 + 2001 + i,
                             reporter=f"friend{i * 100}", message_id=f"p{i * 100}",
                             label="spam"))
    after = engine.process(message(engine.config, "late", "user9", ["friend9"], text, T0 + 2100))
    assert "CAMPAIGN_CONFIRMED" not in {s.code for s in after.signals}
    assert after.action in ("deliver", "warn")


def test_mass_greeting_is_not_held() -> None:
    engine = campaign_engine()
    verdicts = [engine.process(message(engine.config, f"g{i}", f"user{i}", [f"friend{i}"],
                                       "Happy new year to you and your family!! 🎉", T0 + i))
                for i in range(150)]
    assert all(v.action in ("deliver", "warn") for v in verdicts)
    assert any("BULK_NEAR_DUPLICATE" in {s.code for s in v.signals} for v in verdicts)
    assert not any(v.campaign for v in verdicts)


def test_one_text_resent_to_one_friend_is_not_bulk() -> None:
    engine = campaign_engine()
    verdicts = [engine.process(message(engine.config, f"r{i}", "alice", ["bob"],
                                       "lunch at 1? the usual place", T0 + i * 60))
                for i in range(40)]
    assert not any("BULK_NEAR_DUPLICATE" in {s.code for s in v.signals} for v in verdicts)


def test_clusters_expire() -> None:
    engine = campaign_engine()
    send(engine, 1, "a", PITCH.format(name="x", n=1), T0)
    band = next(iter(keys(PITCH.format(name="x", n=1), ["friend1"])))
    from spimguard.state.ops import Get

    assert engine.state.read([Get(band)], T0 + 10)[0] is not None
    engine.state.sweep(T0 + 2 * 86_400)
    assert engine.state.read([Get(band)], T0 + 2 * 86_400)[0] is None


def test_a_message_reads_its_bands_in_one_query_and_puts_them_in_one_write() -> None:
    """A text's six band keys are one ``Gets`` and one ``Puts`` (not six of each), each
    band holding the cluster's id, and its summary one ``Put`` under its home."""
    from spimguard.detectors.bulk import home, loaded
    from spimguard.state.ops import Get, Gets, Put, Puts

    engine = campaign_engine()
    detector = next(d for d in engine.detectors if d.name == "bulk")
    sent = message(engine.config, "c1", "a", ["friend1"], PITCH.format(name="x", n=1), T0)
    planned = engine._plan(sent, [detector])
    bands = tuple(sorted(keys(PITCH.format(name="x", n=1), ["friend1"])))
    assert Gets(bands) in planned.queries
    assert not [q for q in planned.queries if q.__class__ is Get and q.key in bands]
    facts = dict(zip(planned.queries, engine.state.read(planned.queries, T0), strict=True))
    written = detector.writes(planned.ctx, facts, Outcome("deliver", 0.0, "none"))
    assert [type(w) for w in written] == [Puts, Put] and written[0].keys == bands
    assert written[1].key == home(written[0].value)
    engine.process(sent)
    stored = engine.state.read([Gets(bands), *map(Get, bands)], T0 + 1)
    assert list(stored[0]) == stored[1:] == [written[0].value] * len(bands)
    assert loaded(engine.state.read([Get(written[1].key)], T0 + 1)[0]).senders == ["a"]


def test_a_cluster_an_earlier_release_wrote_as_json_is_read_as_before() -> None:
    """A home key holds a cluster as msgpack bytes; one an earlier release wrote as JSON
    on its band keys (a dict as read, for the day a cluster lasts) is still the cluster
    the next copy joins."""
    from spimguard.detectors.bulk import home, loaded
    from spimguard.state.ops import Delete, Get, Put

    engine = campaign_engine()
    send(engine, 1, "a", PITCH.format(name="x", n=1), T0)
    bands = sorted(keys(PITCH.format(name="x", n=1), ["friend1"]))
    named = engine.state.read([Get(bands[0])], T0 + 1)[0]
    summary = engine.state.read([Get(home(named))], T0 + 1)[0]
    assert summary.__class__ is bytes
    engine.remember([Put(band, loaded(summary), 3_600) for band in bands]  # as JSON
                    + [Delete(home(named))])
    assert all(isinstance(v, dict) for v in engine.state.read([Get(b) for b in bands], T0 + 1))
    send(engine, 2, "b", PITCH.format(name="y", n=2), T0 + 5)
    (joined,) = clusters_at(engine, bands[:1], T0 + 6)
    assert joined.senders == ["a", "b"] and joined.first == T0 and joined.messages > 1.9


def make_campaign(engine: Engine) -> str:
    for n in range(40):
        engine.process(message(engine.config, f"c{n}", f"acct{n % 10}", [f"friend{n}"],
                               PITCH.format(name=f"friend{n}", n=n), T0 + n * 11,
                               session=f"s{n % 10}",
                               client={"id": "MobileFunster 2.1", "ip": f"203.0.113.{n % 10}"}))
    return engine.records.campaign_ids()[0]


def test_evidence_bundle_verifies_and_detects_tampering(tmp_path: Path) -> None:
    engine = open_engine(config(storage={"backend": "sqlite"}), tmp_path / "data")
    campaign = make_campaign(engine)
    runner = CliRunner()
    engine.close()
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["evidence", "export", campaign, "--out", str(out),
                                 "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    for name in (*evidence.FILES, "manifest.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["domains"][0]["domain"] == "tonez-club.biz"
    assert "08005550001" in summary["phones"] or summary["phones"]
    messages = (out / "messages.csv").read_text()
    assert "friend3" not in messages.split("\n", 1)[1].split(",")[6]  # recipients pseudonymised
    html = (out / "report.html").read_text()
    assert "<b>now</b>" not in html and "&lt;b&gt;now&lt;/b&gt;" in html  # text escaped
    assert runner.invoke(app, ["evidence", "verify", str(out)]).exit_code == 0

    lines = messages.splitlines()
    lines[5] = lines[5].replace("block", "deliver").replace("hold", "deliver")
    (out / "messages.csv").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["evidence", "verify", str(out)])
    assert result.exit_code == 1
    assert "hash chain" in result.output and "messages.csv does not match" in result.output


def test_campaign_endpoints(tmp_path: Path, server: Server) -> None:
    with server.client() as client:
        for n in range(40):
            body = {"type": "message", "id": f"c{n}", "ts": T0 + n * 11, "sender": f"acct{n % 10}",
                    "recipients": [f"friend{n}"], "text": PITCH.format(name=f"friend{n}", n=n)}
            client.post("/v1/check", json=body)
        found = client.get("/v1/campaigns", params={"domain": "tonez-club.biz"}).json()
        assert found["campaigns"] and found["campaigns"][0]["messages"] >= 20
        campaign = found["campaigns"][0]["id"]
        detail = client.get(f"/v1/campaigns/{campaign}").json()
        assert detail["senders"] and detail["domains"][0]["domain"] == "tonez-club.biz"
        bundle = client.get(f"/v1/campaigns/{campaign}/evidence")
        assert bundle.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
        assert "manifest.json" in names and "report.html" in names
        assert client.get("/v1/campaigns/nope").status_code == 404
        assert client.get("/v1/campaigns", params={"since": "x"}).status_code == 422
        operations = client.get("/v1/operations").json()["operations"]
        assert campaign in operations[0]["campaigns"]
        one = client.get(f"/v1/operations/{operations[0]['id']}").json()
        assert one["domains"] == ["tonez-club.biz"]
        bundle = client.get(f"/v1/operations/{operations[0]['id']}/evidence")
        assert bundle.headers["content-type"] == "application/zip"
        summary = json.loads(zipfile.ZipFile(io.BytesIO(bundle.content)).read("summary.json"))
        assert summary["id"] == operations[0]["id"] and summary["messages"] == one["messages"]
        assert client.get("/v1/operations/op-nope").status_code == 404
        assert client.get("/v1/operations/op-nope/evidence").status_code == 404
        assert client.get("/v1/operations", params={"since": "x"}).status_code == 422


def viral_engine() -> Engine:
    """Sixty friends, each listing the next two as contacts and having talked with them
    (a line each way: a conversation is both sides' doing, see ``engine._own_writes``)."""
    e = campaign_engine()
    people = [f"p{i}" for i in range(62)]
    for i, person in enumerate(people[:60]):
        e.process(event(e.config, type="contacts", id=f"c{i}", ts=T0, account=person,
                        contacts=people[i + 1:i + 3]))
        for j, friend in enumerate(people[i + 1:i + 3]):
            e.process(message(e.config, f"t{i}-{j}", person, [friend], "see you later then",
                              T0 + 10 + i))
            e.process(message(e.config, f"r{i}-{j}", friend, [person], "sure, see you",
                              T0 + 11 + i))
    return e


def test_viral_sharing_is_not_a_campaign_and_a_push_is() -> None:
    """Many senders with one fresh link, each to two friends: sharing. The same link,
    each sender to thirty people: a push. Only the push carries bulk and spread evidence."""
    link = "https://www.riverside-gazette.net/2026/flood-on-main-street"
    e = viral_engine()
    shared = [e.process(message(e.config, f"v{i}-{j}", f"p{i}", [f"p{i + 1 + j}"],
                                f"omg have you seen this {link}", T0 + 600 + i * 30 + j))
              for i in range(60) for j in range(2)]
    codes = {s.code for v in shared for s in v.signals}
    assert not codes & {"BULK_NEAR_DUPLICATE", "LINK_REPUTATION"}, codes
    assert all(v.action == "deliver" and not v.campaign for v in shared)

    e = viral_engine()
    pushed = [e.process(message(e.config, f"v{i}-{j}", f"p{i}", [f"x{i}-{j}"],
                                f"omg have you seen this {link}", T0 + 600 + i * 30 + j))
              for i in range(12) for j in range(30)]
    last = {s.code: s for s in pushed[-1].signals}
    assert {"BULK_NEAR_DUPLICATE", "LINK_REPUTATION"} <= set(last)
    assert "12 accounts" in last["BULK_NEAR_DUPLICATE"].detail
    assert "each" in last["BULK_NEAR_DUPLICATE"].detail


def test_once_makes_a_value_once_an_event_none_included() -> None:
    """``base.once``: what reads, detect and writes each ask for is made on the first ask
    (a plan of None, "nothing to cluster", is an answer too, not made again)."""
    made: list[str] = []

    def make(value: str | None) -> str | None:
        made.append("x")
        return value

    ctx = Context(Message(id="m", ts=T0, sender="a", recipients=["b"], text="ok"))
    assert once(ctx, "k", make, None) is None
    assert once(ctx, "k", make, "late") is None
    assert once(ctx, "j", make, "v") == once(ctx, "j", make, "w") == "v"
    assert len(made) == 2


def test_an_operators_spam_decision_weighs_on_the_cluster_as_a_report_does() -> None:
    """An operator's decision is a report (``trust.OperatorDecision``): it teaches every
    learner, the cluster of its message's text included, as a user's spam report does."""
    from spimguard import trust

    engine = campaign_engine()
    send(engine, 1, "a", PITCH.format(name="x", n=1), T0)
    band = sorted(keys(PITCH.format(name="x", n=1), ["friend1"]))[0]
    trust.decide(engine, "c1", "spam", ts=T0 + 60)
    (cluster,) = clusters_at(engine, [band], T0 + 61)
    assert cluster.reporters == ["operator"] and cluster.weight > 0
