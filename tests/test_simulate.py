"""The simulator: a small network under every attack, in-process and over HTTP."""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TOKEN, start_server
from spimguard.cli import app
from spimguard.sim import network, scenarios, texts
from spimguard.sim.score import Tally, figures, summary

# What the current detectors meet on a small mixed network (bundled texts): every
# attack contained quickly, no innocent account actioned, little ham stopped.
REQUIRE = ["spim_stopped_share>=0.9", "life_ham_stopped_share<=0.002", "innocents_actioned<=0",
           "hijack_delivered_p90<=3", "phish_delivered_p90<=3", "bots_delivered_p90<=3",
           "hijack_never_contained<=0", "trap_greetings_stopped_share<=0.05"]
SMALL = ["simulate", "--scenario", "mixed", "--users", "300", "--days", "3", "--seed", "7"]


def test_network_is_symmetric_clustered_and_heavy_tailed() -> None:
    net = network.build(2000, random.Random(1))
    degrees = sorted(len(p.contacts) for p in net.people.values())
    assert all(net.people[f].contacts.__contains__(p.name)
               for p in net.people.values() for f in p.contacts)
    assert degrees[len(degrees) // 2] < 60 < degrees[-1]  # most have dozens, a few many more
    assert all(set(p.close) <= p.contacts for p in net.people.values())


def test_same_seed_same_events_and_attacks_come_on_the_last_day() -> None:
    def planned(seed: int) -> list[tuple[float, str]]:
        rng = random.Random(seed)
        plan = scenarios.plan(network.build(200, rng), texts.load(), "mixed", 2, rng)
        return [(e.ts, json.dumps(e.body, sort_keys=True)) for e in plan.events]

    assert planned(3) == planned(3) != planned(4)
    rng = random.Random(3)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "hijack", 2, rng)
    spim = [e for e in plan.events if e.truth and e.truth.spim]
    assert spim and min(e.ts for e in spim) >= plan.attack_day
    assert {plan.actors[e.truth.actor] for e in spim if e.truth} == {"hijack"}


def test_unknown_scenario_and_bad_requirement_are_clear_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(app, [*SMALL[:2], "nope", "--users", "50"])
    assert result.exit_code == 2 and "unknown scenario 'nope'" in result.output
    result = runner.invoke(app, [*SMALL, "--require", "ham_stopped_share=<1"])
    assert result.exit_code == 2 and "expected KEY<=VALUE" in result.output


def test_mixed_in_process_meets_thresholds_and_writes_scorecard(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*SMALL, "--out", str(tmp_path),
                                      *(a for r in REQUIRE for a in ("--require", r))])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "scorecard.json").read_text())
    assert card["metrics"]["spim_stopped_share"] >= 0.9
    assert {"hijack", "phish", "bots"} <= set(card["containment"])
    assert {"greetings", "popular-link", "new-number"} <= set(card["traps"])
    assert card["reports"] > 0  # recipients reported some of the spim they saw
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "held or blocked" in result.output


def test_missed_requirement_exits_non_zero() -> None:
    result = CliRunner().invoke(app, [*SMALL[:2], "bots", "--users", "100", "--days", "2",
                                      "--require", "spim_stopped_share<=0.01"])
    assert result.exit_code == 1
    assert "requirement missed: spim_stopped_share" in result.output
    # An unknown figure is named before the run: tests/test_console.py.


@pytest.mark.parametrize("scenario", ["mixed"])
def test_mixed_over_http_against_a_real_server(tmp_path: Path, scenario: str) -> None:
    server = start_server(tmp_path / "data", extra_env={
        "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(network.OFFICIAL_CLIENTS)})
    try:
        result = CliRunner().invoke(app, [*SMALL, "--url", server.url, "--token", TOKEN,
                                          "--out", str(tmp_path / "out"),
                                          *(a for r in REQUIRE for a in ("--require", r))])
        assert result.exit_code == 0, result.output
        with server.client() as client:
            stats = client.get("/metrics").text
        assert "spimguard_" in stats
        card = json.loads((tmp_path / "out" / "scorecard.json").read_text())
        assert card["messages"] > 1000
        result = CliRunner().invoke(app, [*SMALL, "--url", server.url, "--token", "wrong"])
        assert result.exit_code == 2 and "401" in result.output
    finally:
        server.stop()


# The scorecard's key figures on seeds nobody tuned on, small and short enough for CI:
# a regression in any detector shows up here as a missed requirement.
SWEEP = {
    "mixed": ["life_ham_stopped_share<=0.002", "owners_ham_stopped_share<=0.002",
              "campaign_after20_reached_share<=0.05", "bots_spim_reached_share<=0.05",
              "hijack_never_contained<=0", "phish_never_contained<=0", "innocents_actioned<=0"],
    "viral": ["viral_ham_stopped_share<=0.001", "life_ham_stopped_share<=0.002"],
    "cold-start": ["life_ham_stopped_share<=0.002", "owners_ham_stopped_share<=0.002",
                   "campaign_after20_reached_share<=0.05", "hijack_never_contained<=0",
                   "phish_never_contained<=0", "innocents_actioned<=0"],
}


@pytest.mark.parametrize(("scenario", "seed"), [("mixed", 41), ("mixed", 42), ("viral", 43),
                                                ("cold-start", 44)])
def test_seed_sweep_meets_the_key_figures(scenario: str, seed: int) -> None:
    result = CliRunner().invoke(app, ["simulate", "--scenario", scenario, "--users", "150",
                                      "--days", "2", "--seed", str(seed),
                                      *(a for r in SWEEP[scenario] for a in ("--require", r))])
    assert result.exit_code == 0, result.output


def test_new_scenarios_plan_what_they_promise() -> None:
    rng = random.Random(5)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "cold-start", 3, rng)
    assert all(e.ts >= plan.attack_day or e.body["type"] == "contacts" for e in plan.events)
    assert any(e.truth and e.truth.spim for e in plan.events)
    rng = random.Random(5)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "viral", 2, rng)
    shared = [e for e in plan.events if e.truth and e.truth.scenario == "viral"]
    senders = {e.body["sender"] for e in shared}
    assert len(senders) >= 20 and len(shared) <= 3 * len(senders)
    assert all(scenarios.VIRAL_DOMAIN in str(e.body["text"]) for e in shared)
    rng = random.Random(5)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "hard-ham", 2, rng)
    hard = [str(e.body["text"]) for e in plan.events if e.truth and e.truth.scenario == "hard-ham"]
    assert hard and all(texts.looks_commercial(t) for t in hard)
    rng = random.Random(5)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "patient", 3, rng)
    sent = [e for e in plan.events if e.truth and e.truth.scenario == "patient"]
    by_victim: dict[object, list[scenarios.Planned]] = {}
    for e in sent:
        by_victim.setdefault(e.body["sender"], []).append(e)
    assert len(by_victim) >= 2
    for messages in by_victim.values():  # a session a message, none reads the contacts
        assert len({e.body["session"] for e in messages}) == len(messages)
        pitches = [e.ts for e in messages if e.ts >= plan.attack_day]
        assert len(pitches) >= 5 and all(b - a >= 660 for a, b in pairwise(pitches))
        assert any(e.ts < plan.attack_day for e in messages)  # the warm-up, the day before
    assert not [e for e in plan.events if e.body["type"] == "contacts_read"]


GROUP_HAM = {"friend-group", "family-group", "work-room", "public-room", "public-greeting",
             "newcomer-friends", "newcomer-public", "cross-post", "friend-invite"}
GROUP_SPIM = {"group-bots", "group-rotate", "group-socks", "group-hijack"}


def test_groups_plans_every_kind_of_room_labelled_and_the_scorecard_counts_them() -> None:
    rng = random.Random(9)
    plan = scenarios.plan(network.build(150, rng), texts.load(), "groups", 2, rng)
    posts = [e for e in plan.events if e.body.get("conversation") and e.body["type"] != "room"]
    ham = {e.truth.trap for e in posts if e.truth and not e.truth.spim}
    spim = {e.truth.scenario for e in posts if e.truth and e.truth.spim}
    assert ham == GROUP_HAM and spim == GROUP_SPIM
    assert all(e.truth is not None for e in posts)
    # A post goes to the room's other members; rooms of every size the scenario promises.
    assert all(e.body["sender"] not in e.body["recipients"] for e in posts)
    widest = {kind: max(len(e.body["recipients"]) for e in posts
                        if e.truth and e.truth.trap == kind) for kind in GROUP_HAM}
    assert widest["friend-group"] <= 11 and widest["family-group"] <= 6
    assert widest["work-room"] >= 19 and widest["public-room"] >= 50
    # The same announcement into two or three rooms; the rotating bot keeps its conversation
    # and changes who is in it.
    crossed = Counter((e.body["sender"], e.body["text"]) for e in posts
                      if e.truth and e.truth.trap == "cross-post")
    assert crossed and min(crossed.values()) >= 2
    rotated = [e.body for e in posts if e.truth and e.truth.scenario == "group-rotate"]
    assert len({r["conversation"] for r in rotated}) < len({str(sorted(r["recipients"]))
                                                             for r in rotated})
    known = figures(plan)
    assert {f"{s}_spim_stopped_share" for s in GROUP_SPIM} <= known
    assert {f"trap_{t}_stopped_share" for t in GROUP_HAM} <= known
    assert "groups_ham_stopped_share" in known


def test_precision_budget_says_what_each_kind_met(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from precision_budget import kind_rows

    def met(deliver: int, warn: int, hold: int, block: int) -> dict[str, float]:
        total = deliver + warn + hold + block
        return {"total": total, "deliver": deliver, "warn": warn, "hold": hold,
                "block": block, "stopped_share": (hold + block) / total}

    card = {"scenario": "groups", "seed": 1,
            "by_scenario": {"groups ham": met(190, 6, 4, 0), "group-bots spim": met(1, 2, 3, 4)},
            "traps": {"cross-post": met(9, 0, 1, 0),
                      "unused": {"total": 0, "deliver": 0, "warn": 0, "hold": 0, "block": 0,
                                 "stopped_share": 0.0}}}
    rows = {kind: text.split() for _, kind, text in kind_rows([card])}
    assert rows["groups ham"][:4] == ["stopped", "200.0", "warned", "300.0"]
    assert rows["trap: cross-post"][:2] == ["stopped", "1000.0"]
    assert rows["group-bots spim"][:4] == ["stopped", "70.00%", "reached", "30.00%"]
    assert "trap: unused" not in rows


# Hijacked accounts are contained by what the session does (takeover, velocity and bulk
# evidence), not by what the content model thinks of the seller's words: the content
# model can be replaced, retrained, or fooled by a wording it never saw. The same
# containment figures as REQUIRE with the content detector switched off, ham untouched.
# Without the words, the hub announcing its new number from a new network is held on the
# burst alone, doubt about the session that only the owner can answer: it is challenged
# (an innocent account actioned), never suspended, and its pass releases every message.
WITHOUT_CONTENT = ["hijack_delivered_p90<=3", "phish_delivered_p90<=3",
                   "hijack_never_contained<=0", "phish_never_contained<=0",
                   "life_ham_stopped_share<=0.002", "owners_ham_stopped_share<=0.002",
                   "innocents_suspended<=0", "benign-bulk_ham_still_stopped_share<=0.005"]


@pytest.mark.parametrize(("scenario", "seed"), [("mixed", 46), ("cold-start", 45)])
def test_takeover_containment_does_not_rest_on_the_content_model(scenario: str,
                                                                 seed: int) -> None:
    result = CliRunner().invoke(app, ["simulate", "--scenario", scenario, "--users", "300",
                                      "--days", "2", "--seed", str(seed), "--without", "content",
                                      *(a for r in WITHOUT_CONTENT for a in ("--require", r))])
    assert result.exit_code == 0, result.output
    assert "CONTENT_SPAM" not in result.output


def test_without_names_a_detector() -> None:
    result = CliRunner().invoke(app, [*SMALL, "--without", "contnet"])
    assert result.exit_code == 2 and "no detector contnet" in result.output


def test_encrypting_a_share_is_drawn_from_the_seed_and_changes_nothing_else() -> None:
    def planned(share: float, seed: int = 9) -> scenarios.Plan:
        rng = random.Random(seed)
        plan = scenarios.plan(network.build(200, rng), texts.load(), "mixed", 2, rng)
        scenarios.encrypt(plan, share, seed)
        return plan

    clear, half, again = planned(0.0), planned(0.5), planned(0.5)
    sealed = [p for p in half.events if p.body.get("encrypted")]
    messages = [p for p in half.events if p.body["type"] == "message"]
    assert 0.45 < len(sealed) / len(messages) < 0.55
    assert [p.body for p in half.events] == [p.body for p in again.events]
    for before, after in zip(clear.events, half.events, strict=True):
        if after.body.get("encrypted"):  # the server sees a size, never the words
            assert "text" not in after.body and after.plaintext == before.body["text"]
            assert after.body["size"] == scenarios.ciphertext_size(after.plaintext) > 100
        else:
            assert after.body == before.body and after.truth == before.truth
    with pytest.raises(ValueError, match="between 0 and 1"):
        scenarios.encrypt(clear, 1.5, 9)


# The goals with every message end-to-end encrypted (metadata alone), on a seed
# nobody tuned on; README "Encrypted conversations" has the table at 1,000 users.
SEALED = ["hijack_delivered_median<=3", "phish_delivered_median<=3",
          "hijack_never_contained<=0", "phish_never_contained<=0", "bots_never_contained<=0",
          "bots_spim_stopped_share>=0.85", "life_ham_stopped_share<=0.001",
          "benign-bulk_ham_stopped_share<=0.005", "innocents_actioned<=0",
          "encrypted_ham_stopped_share<=0.001"]


def test_every_message_encrypted_still_contains_hijacks_and_bots(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--scenario", "mixed", "--users", "150",
                                      "--days", "2", "--seed", "41", "--encrypted", "1.0",
                                      "--out", str(tmp_path),
                                      *(a for r in SEALED for a in ("--require", r))])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "scorecard.json").read_text())
    assert card["encrypted"] == 1.0
    assert set(card["by_encryption"]) == {"encrypted ham", "encrypted spim"}
    assert card["metrics"]["plaintext_spim_stopped_share"] == 0.0  # none were in the clear
    assert "--encrypted 1" in result.output


def test_a_release_leaves_the_verdict_and_says_what_stayed_held() -> None:
    """The scorecard keeps what a message met first ("held at first") and counts what a
    passed challenge released since: still held, released, and how long after sending."""
    rng = random.Random(3)
    plan = scenarios.plan(network.build(40, rng), texts.load(), "quiet", 1, rng)
    tally = Tally(plan)
    sent = [p for p in plan.events if p.truth is not None][:4]
    for n, planned in enumerate(sent):
        tally.observe(planned, {"type": "message", "id": f"m{n}", **planned.body},
                      {"action": "hold" if n < 2 else "deliver", "signals": []})
    tally.release("m0", sent[0].ts + 300)
    tally.release("m2", sent[2].ts + 60)  # delivered already: nothing to release
    tally.release("elsewhere", sent[0].ts)  # not this run's
    card = summary(tally, scenario="quiet", users=40, days=1, seed=3, seconds=1.0)
    metrics = card["metrics"]
    assert metrics["life_ham_stopped_share"] == 0.5  # as first judged
    assert metrics["life_ham_still_stopped_share"] == 0.25
    assert metrics["ham_released"] == 1 and metrics["spim_released"] == 0
    assert metrics["release_delay_median"] == metrics["release_delay_p90"] == 300
    assert card["released"] == {"life ham": 1}


def test_verifying_sign_ins_is_drawn_from_the_seed_and_changes_nothing_else() -> None:
    """The platform's device verification (``scenarios.verify``): a passed challenge a
    little after some of the owners' sign-ins on its apps, never after an intruder's or a
    bot's; its own draws, so the other events stay the same at any share."""
    def planned(share: float, seed: int = 9) -> scenarios.Plan:
        rng = random.Random(seed)
        plan = scenarios.plan(network.build(200, rng), texts.load(), "mixed", 2, rng)
        scenarios.verify(plan, share, seed)
        return plan

    def passes(plan: scenarios.Plan) -> dict[tuple[str, str], float]:
        found = {(str(p.body["account"]), str(p.body["session"])): p.ts
                 for p in plan.events if p.body["type"] == "challenge"}
        assert len(found) == sum(p.body["type"] == "challenge" for p in plan.events)
        return found

    none, half, again, every = planned(0.0), planned(0.5), planned(0.5), planned(1.0)
    assert not passes(none)
    assert [(p.ts, p.body) for p in half.events] == [(p.ts, p.body) for p in again.events]
    others = [(p.ts, p.body) for p in every.events if p.body["type"] != "challenge"]
    assert others == [(p.ts, p.body) for p in none.events]
    owners = {(str(p.body["account"]), str(p.body["session"])): p.ts for p in every.events
              if p.owner and p.body["client"] in [{"id": c} for c in network.OFFICIAL_CLIENTS]}
    assert owners and set(passes(every)) == set(owners)
    low, high = scenarios.VERIFY_DELAY
    assert all(low <= passes(every)[key] - ts <= high for key, ts in owners.items())
    assert passes(half).items() <= passes(every).items()
    assert 0.4 < len(passes(half)) / len(owners) < 0.6
    strangers = {str(p.body["session"]) for p in every.events if p.body["type"] == "login"
                 and not p.owner}
    assert strangers and not strangers & {s for _, s in passes(every)}  # intruders, bots
    assert all(p.body["passed"] is True for p in every.events if p.body["type"] == "challenge")
    with pytest.raises(ValueError, match="between 0 and 1"):
        scenarios.verify(none, -0.1, 9)


# Seed 2 at 150 users over 2 days: the hub announces its new number, encrypted, from its
# mobile network, which it never used the day before: the spoofing intruder in metadata.
VERIFIED = ["simulate", "--scenario", "mixed", "--users", "150", "--days", "2", "--seed", "2",
            "--encrypted", "1.0"]
CONTAINED = ["hijack_never_contained<=0", "phish_never_contained<=0", "bots_never_contained<=0",
             "hijack_delivered_median<=3", "phish_delivered_median<=3",
             "bots_spim_stopped_share>=0.85", "life_ham_stopped_share<=0.001"]


def test_with_device_verification_the_owner_s_announcement_goes_and_intruders_do_not(
        tmp_path: Path) -> None:
    rng = random.Random(2)
    plan = scenarios.plan(network.build(150, rng), texts.load(), "mixed", 2, rng)
    hub = plan.network.people[scenarios.HUB]
    assert [plan.session_ip(hub, day) for day in range(2)] == [hub.home_ip, hub.mobile_ip]
    held = [*CONTAINED, "trap_new-number_stopped_share>=0.5"]
    unverified = CliRunner().invoke(app, [*VERIFIED, "--verified", "0",
                                          *(a for r in held for a in ("--require", r))])
    assert unverified.exit_code == 0, unverified.output
    delivered = [*CONTAINED, "benign-bulk_ham_stopped_share<=0", "innocents_actioned<=0"]
    verified = CliRunner().invoke(app, [*VERIFIED, "--verified", "1", "--out", str(tmp_path),
                                        *(a for r in delivered for a in ("--require", r))])
    assert verified.exit_code == 0, verified.output
    card = json.loads((tmp_path / "scorecard.json").read_text())
    assert card["verified"] == 1.0 and card["metrics"]["spim_released"] == 0
    assert "--verified 1" in verified.output


def test_groups_states_every_room_the_way_a_server_would() -> None:
    """Every group post comes from a member the server said was in its room then, to
    people it says were in it (``room`` events: the rooms as they were before the run,
    then each join and leave); the network's rooms are older than the run, the
    attackers' rooms and joins of the day are not. (A post may name someone who joins
    later that day: the scenario plans a room's members ahead of their join times.)"""
    rng = random.Random(9)
    plan = scenarios.plan(network.build(150, rng), texts.load(), "groups", 2, rng)
    members: dict[str, set[str]] = {}
    ever: dict[str, set[str]] = {}
    for e in plan.events:
        if e.body["type"] == "room":
            ever.setdefault(str(e.body["conversation"]), set()).update(
                e.body["members"])  # type: ignore[call-overload]
    for e in plan.events:
        body = e.body
        if body["type"] == "room":
            room = members.setdefault(str(body["conversation"]), set())
            people = set(body["members"])  # type: ignore[call-overload]
            room.update(people) if body["membership"] == "join" else room.difference_update(
                people)
            if "since" in body:  # a restatement: from before the run
                assert float(body["since"]) < e.ts <= plan.start  # type: ignore[arg-type]
        elif body.get("conversation") and body["type"] == "message":
            assert body["sender"] in members[str(body["conversation"])]
            assert set(body["recipients"]) <= ever[str(body["conversation"])]  # type: ignore[call-overload]
    stated = {str(e.body["conversation"]) for e in plan.events if e.body["type"] == "room"
              and "since" in e.body}
    assert {r for r in stated if "bot" in r} == set()
    assert any("family-group" in r for r in stated) and any("public-room" in r for r in stated)
