"""Operations: campaigns linked by shared infrastructure, and their evidence."""

from __future__ import annotations

from pathlib import Path

from conftest import T0, config, message
from spimguard import campaigns, evidence, open_engine, operations
from spimguard.engine import Engine
from spimguard.records import CampaignMessage
from spimguard.records.memory import MemoryRecords

RINGTONES = ("Hi {name}! I found the coolest ringtones, get yours free at "
             "http://{domain}/r{n} or call 0800 555 {n:04d} now")
WALLPAPER = ("{name} free wallpapers and games for your phone, download all of them "
             "today at http://{domain}/w{n} before the offer ends!!")
LOTTERY = ("URGENT {name}! You have WON a 2000 cash prize, claim it now at "
           "http://{domain}/claim/{n} text WIN to 80888")


def wave(engine: Engine, template: str, domain: str, ip: str, client: str, start: int,
         senders: int = 8) -> None:
    for n in range(start, start + 60):
        sender = f"acct-{domain}-{n % senders}"
        engine.process(message(engine.config, f"m{n}", sender, [f"friend{n}"],
                               template.format(name=f"friend{n}", domain=domain, n=n),
                               T0 + n * 7, session=f"{sender}-s",
                               client={"id": client, "ip": f"{ip}.{n % 200 + 2}"}))


def test_templates_of_one_seller_are_one_operation_and_others_are_not() -> None:
    e = open_engine(config(official_clients=["im-android"]))
    # One seller: two templates, two registrant-style domains, one hosting network.
    wave(e, RINGTONES, "tonez-club1.biz", "203.0.113", "MobileFunster 2.1", 0)
    wave(e, WALLPAPER, "tonezclub77.info", "203.0.113", "MobileFunster 2.1", 100)
    # Another spimmer, on the official app's id, elsewhere.
    wave(e, LOTTERY, "claim-prize.top", "198.51.100", "im-android", 200)
    found = operations.listing(e.records, official=e.config.official_clients)
    domains = sorted(tuple(op["domains"]) for op in found)
    assert domains == [("claim-prize.top",), ("tonez-club1.biz", "tonezclub77.info")]
    seller = next(op for op in found if len(op["domains"]) == 2)
    assert len(seller["campaigns"]) >= 2
    assert "tonezclub" in seller["shared"]["pattern"]
    assert "203.0.113.0" in seller["shared"]["network"]
    assert "im-android" not in str(found)  # the platform's own app id links nothing
    assert operations.find(e.records, seller["id"], e.config.official_clients) == seller


def test_operation_evidence_is_the_bundle_over_all_its_campaigns(tmp_path: Path) -> None:
    e = open_engine(config())
    wave(e, RINGTONES, "tonez-club1.biz", "203.0.113", "MobileFunster 2.1", 0)
    wave(e, WALLPAPER, "tonezclub77.info", "203.0.113", "MobileFunster 2.1", 100)
    seller = operations.listing(e.records)[0]
    files = operations.bundle(e.records, seller, b"k" * 32)
    assert files is not None
    evidence.write(files, tmp_path)
    assert evidence.verify(tmp_path) == []
    rows = (tmp_path / "messages.csv").read_text().splitlines()[1:]
    assert len(rows) == seller["messages"]
    assert {"tonez-club1.biz", "tonezclub77.info"} <= set(seller["domains"])


def test_same_records_same_operation_ids() -> None:
    def ids() -> list[str]:
        e = open_engine(config())
        wave(e, RINGTONES, "tonez-club1.biz", "203.0.113", "MobileFunster 2.1", 0)
        wave(e, LOTTERY, "claim-prize.top", "198.51.100", "other", 200)
        return [op["id"] for op in operations.listing(e.records)]

    assert ids() == ids()


def test_a_cluster_of_people_sharing_is_not_listed_as_a_campaign() -> None:
    """Reported once, a viral link's cluster is on record; it is still not a campaign:
    thirty senders, two friends each, delivered. A push of the same size is one."""
    def cluster(name: str, per_sender: int, action: str) -> MemoryRecords:
        records = MemoryRecords()
        for n in range(60):
            sender = f"u{n // per_sender}"
            records.save_campaign_message(CampaignMessage(
                campaign=name, id=f"{name}{n}", ts=T0 + n, sender=sender, session="",
                client="", ip="", recipients=(f"r{n}",), text="look http://news.example.net",
                action=action, domains=("news.example.net",)))
        return records

    sharing = cluster("c-viral", 2, "deliver")
    assert campaigns.listing(sharing) == [] and operations.listing(sharing) == []
    assert (campaigns.summary(sharing, "c-viral") or {})["shape"] == "sharing"
    pushed = cluster("c-push", 20, "deliver")
    assert [c["id"] for c in campaigns.listing(pushed)] == ["c-push"]
    held = cluster("c-held", 2, "hold")  # many accounts, few each, but stopped: a campaign
    assert [c["id"] for c in campaigns.listing(held)] == ["c-held"]
