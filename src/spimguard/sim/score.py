"""The simulation's scorecard: what each kind of message met, and how fast attacks stopped.

``Tally`` watches verdicts as they come back, and the releases a passed challenge
queues for the messages it held; ``summary`` turns it into one
JSON-able dict (what ``--out`` writes and ``--require`` checks, through its flat
``metrics``); ``rows`` and ``plot`` show it to people.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import re2

from ..errors import BadInput
from ..events import RECEIVED

if TYPE_CHECKING:
    from .scenarios import Plan, Planned, Truth

ACTIONS = ("deliver", "warn", "hold", "block")
STOPPING = ("hold", "block")
CONTAINING = ("challenge", "suspend_sending")
PAST = {"deliver": "delivered", "warn": "warned", "hold": "held", "block": "blocked"}
CAMPAIGN_GRACE = 20  # a campaign's first messages teach; from the 21st on it must be stopped
SEALING = {True: "encrypted", False: "plaintext"}
SERIES = ("spim delivered", "spim warned", "spim held", "spim blocked", "ham held",
          "ham blocked")


class Tally:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.actions: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.traps: dict[str, Counter[str]] = defaultdict(Counter)
        self.signals: dict[str, Counter[str]] = {"spim": Counter(), "ham": Counter()}
        self.before_containment: Counter[str] = Counter()
        self.contained: dict[str, float] = {}
        self.innocents: set[str] = set()
        # ... of which suspended: a challenge the owner passes costs it one prompt, a
        # suspension stops its session until the challenge or an operator lifts it.
        self.suspended_innocents: set[str] = set()
        self.timeline: dict[int, Counter[str]] = defaultdict(Counter)
        # Ordinary messages of accounts that get hijacked: the owner must not pay for it.
        self.owners: Counter[str] = Counter()
        self.campaign_sent: Counter[str] = Counter()  # spim so far, per campaign
        self.after_grace: Counter[str] = Counter()  # actions on campaign spim past the grace
        self.causes: Counter[str] = Counter()  # ham stopped, by the signals that stopped it
        # Actions by ("encrypted" or "plaintext", "spim" or "ham"): what encryption costs.
        self.sealing: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        # Stopped messages by id, and what a passed challenge released of them: a verdict
        # stays what it was ("held at first"); the releases say what stayed held after.
        self.stopped: dict[str, tuple[Truth, float]] = {}
        self.released: dict[tuple[str, str], int] = Counter()  # (scenario, kind) -> messages
        self.released_traps: Counter[str] = Counter()
        self.release_delays: list[float] = []  # seconds from a message to its release
        self.events = self.messages = self.reports = 0

    def observe(self, planned: Planned, event: dict[str, Any], result: dict[str, Any]) -> None:
        self.events += 1
        account = event.get("sender") or event.get("account") or event.get("reporter")
        acted = result.get("account_action", {})
        if acted.get("action", "none") != "none":
            # The account acted on is named (by the answer, or as its event's sender,
            # account or reporter): ``innocents`` are sorted into the report.
            target = cast(str, acted.get("account") or account)
            if target in self.plan.actors:
                if acted["action"] in CONTAINING:
                    self.contained.setdefault(target, planned.ts)
            else:
                self.innocents.add(target)
                if acted["action"] == "suspend_sending":
                    self.suspended_innocents.add(target)
        if event["type"] == "report":
            self.reports += 1
        truth = planned.truth
        if truth is None:
            return
        self.messages += 1
        action = result["action"]
        kind = "spim" if truth.spim else "ham"
        self.actions[truth.scenario, kind][action] += 1
        self.sealing[SEALING[bool(event.get("encrypted"))], kind][action] += 1
        if truth.trap:
            self.traps[truth.trap][action] += 1
        if action in STOPPING:
            self.stopped[event["id"]] = (truth, planned.ts)
        if action != "deliver":
            self.signals[kind].update(s["code"] for s in result["signals"])
        if not truth.spim:
            if action in STOPPING:
                self.causes[cause(result["signals"])] += 1
            if truth.scenario == "life" and event.get("sender") in self.plan.actors:
                self.owners[action] += 1
        if truth.campaign:
            self.campaign_sent[truth.campaign] += 1
            if self.campaign_sent[truth.campaign] > CAMPAIGN_GRACE:
                self.after_grace[action] += 1
        if kind == "spim" or action in STOPPING:
            hour = int((planned.ts - self.plan.start) // 3600)
            self.timeline[hour][f"{kind} {PAST[action]}"] += 1
        if truth.actor and truth.actor not in self.contained:
            if action in STOPPING:
                self.contained[truth.actor] = planned.ts
            else:
                self.before_containment[truth.actor] += 1


    def release(self, message_id: str, ts: float) -> None:
        """A stopped message released for delivery (by a passed challenge) at ``ts``."""
        found = self.stopped.pop(message_id, None)
        if found is None:
            return
        truth, sent = found
        self.released[truth.scenario, "spim" if truth.spim else "ham"] += 1
        if truth.trap:
            self.released_traps[truth.trap] += 1
        self.release_delays.append(ts - sent)


def cause(signals: list[dict[str, Any]]) -> str:
    """A verdict's cause: the signal codes that added points (or, with none, all of them),
    sorted and joined, such as ``BULK_NEAR_DUPLICATE+LINK_REPUTATION``."""
    codes = sorted({s["code"] for s in signals if s["score"] > 0}
                   or {s["code"] for s in signals})
    return "+".join(codes) or "(none)"


def _share(counts: Counter[str], actions: Collection[str]) -> float:
    total = sum(counts.values())
    return sum(counts[a] for a in actions) / total if total else 0.0


def _shares(counts: Counter[str]) -> dict[str, Any]:
    return {"total": sum(counts.values()), **{a: counts[a] for a in ACTIONS},
            "stopped_share": round(_share(counts, STOPPING), 5)}


def _still(counts: Counter[str], released: int) -> float:
    """The share of ``counts`` stopped and not released since."""
    total = sum(counts.values())
    return (counts["hold"] + counts["block"] - released) / total if total else 0.0


def _p90(values: list[int] | list[float]) -> float:
    return sorted(values)[max(0, math.ceil(0.9 * len(values)) - 1)]


def summary(tally: Tally, *, scenario: str, users: int, days: int, seed: int,
            seconds: float, encrypted: float = 0.0, verified: float = 0.0) -> dict[str, Any]:
    plan = tally.plan
    spim: Counter[str] = Counter()
    ham: Counter[str] = Counter()
    for (_, kind), counts in tally.actions.items():
        (spim if kind == "spim" else ham).update(counts)
    metrics: dict[str, float] = {
        "spim_delivered_share": spim["deliver"] / max(1, sum(spim.values())),
        "spim_reached_share": (spim["deliver"] + spim["warn"]) / max(1, sum(spim.values())),
        "spim_stopped_share": (spim["hold"] + spim["block"]) / max(1, sum(spim.values())),
        "ham_stopped": ham["hold"] + ham["block"],
        "ham_stopped_share": (ham["hold"] + ham["block"]) / max(1, sum(ham.values())),
        "ham_warned_share": ham["warn"] / max(1, sum(ham.values())),
        "innocents_actioned": len(tally.innocents),
        "innocents_suspended": len(tally.suspended_innocents),
        "messages_per_second": tally.messages / seconds if seconds else 0.0,
    }
    containment: dict[str, dict[str, Any]] = {}
    for name in sorted(set(plan.actors.values())):
        actors = [a for a, s in plan.actors.items() if s == name]
        delivered = [tally.before_containment[a] for a in actors]
        never = sum(a not in tally.contained for a in actors)
        containment[name] = {"accounts": len(actors), "never_contained": never,
                             "delivered_before_median": statistics.median(delivered),
                             "delivered_before_p90": _p90(delivered)}
        metrics[f"{name}_delivered_median"] = statistics.median(delivered)
        metrics[f"{name}_delivered_p90"] = _p90(delivered)
        metrics[f"{name}_never_contained"] = never
    for (name, kind), counts in tally.actions.items():
        metrics[f"{name}_{kind}_stopped_share"] = _share(counts, STOPPING)
        metrics[f"{name}_{kind}_reached_share"] = _share(counts, RECEIVED)
        # Still held once the challenges were answered: held at first, less the released.
        metrics[f"{name}_{kind}_still_stopped_share"] = _still(counts, tally.released[
            name, kind])
    released = {kind: sum(n for (_, k), n in tally.released.items() if k == kind)
                for kind in ("spim", "ham")}
    metrics["ham_still_stopped_share"] = _still(ham, released["ham"])
    metrics["spim_released"] = released["spim"]
    metrics["ham_released"] = released["ham"]
    delays = sorted(tally.release_delays)
    metrics["release_delay_median"] = statistics.median(delays) if delays else 0.0
    metrics["release_delay_p90"] = _p90(delays) if delays else 0.0
    for sealing, kind in itertools.product(SEALING.values(), ("spim", "ham")):
        counts = tally.sealing[sealing, kind]  # zeros when there were none: a known figure
        metrics[f"{sealing}_{kind}_stopped_share"] = _share(counts, STOPPING)
        metrics[f"{sealing}_{kind}_reached_share"] = _share(counts, RECEIVED)
    metrics["owners_ham_stopped_share"] = _share(tally.owners, STOPPING)
    if tally.campaign_sent:
        metrics["campaign_after20_reached_share"] = _share(tally.after_grace, RECEIVED)
    hams = sum(ham.values())
    budget = {c: round(n * 10_000 / hams, 3) for c, n in tally.causes.most_common()} if hams else {}
    metrics["ham_held_per_10k"] = sum(tally.causes.values()) * 10_000 / hams if hams else 0.0
    for trap, counts in tally.traps.items():
        metrics[f"trap_{trap}_stopped_share"] = _shares(counts)["stopped_share"]
        metrics[f"trap_{trap}_still_stopped_share"] = _still(counts, tally.released_traps[trap])
    return {
        "scenario": scenario, "users": users, "days": days, "seed": seed,
        "encrypted": encrypted,
        # Share of the owners' sign-ins on the platform's apps it verified from another of
        # their devices (``scenarios.verify``): passed challenges nobody asked for.
        "verified": verified,
        "events": tally.events, "messages": tally.messages, "reports": tally.reports,
        "seconds": round(seconds, 2),
        "by_scenario": {f"{s} {k}": _shares(c) for (s, k), c in sorted(tally.actions.items())},
        "traps": {t: _shares(c) for t, c in sorted(tally.traps.items())},
        # The same messages split by what the server could read: encryption's cost.
        "by_encryption": {f"{s} {k}": _shares(c) for (s, k), c in sorted(tally.sealing.items())
                          if sum(c.values())},
        "containment": containment,
        # Stopped messages a passed challenge released since (the verdicts above are as
        # first given), and how long after they were sent.
        "released": {f"{s} {k}": n for (s, k), n in sorted(tally.released.items())},
        # Ham held or blocked per 10,000 ordinary messages, by cause: the precision budget.
        "precision_budget": budget,
        "owners": _shares(tally.owners),
        "innocent_accounts_actioned": sorted(tally.innocents),
        "innocent_accounts_suspended": sorted(tally.suspended_innocents),
        "signals": {k: dict(c.most_common()) for k, c in tally.signals.items()},
        "timeline": {str(h): dict(c) for h, c in sorted(tally.timeline.items())},
        "metrics": {k: round(v, 6) for k, v in metrics.items()},
    }


_REQUIREMENT = re2.compile(r"^\s*([a-z0-9_-]+)\s*(<=|>=)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


def parse_requirement(text: str) -> tuple[str, str, float]:
    match = _REQUIREMENT.match(text)
    if not match:
        raise BadInput(f"--require {text!r}: expected KEY<=VALUE or KEY>=VALUE")
    return match.group(1), match.group(2), float(match.group(3))


def figures(plan: Plan) -> set[str]:
    """The scorecard figures this plan's run will have (before running it, so a mistyped
    --require key stops the command at once): a tally that saw every message delivered."""
    tally = Tally(plan)
    for planned in plan.events:
        if planned.truth is not None:
            tally.observe(planned, {"type": "message", **planned.body},
                          {"action": "deliver", "signals": []})
    return set(summary(tally, scenario="", users=0, days=0, seed=0, seconds=0.0)["metrics"])


def missed(card: dict[str, Any], requirements: list[tuple[str, str, float]]) -> list[str]:
    """The requirements the scorecard does not meet, each said in a sentence."""
    failures = []
    for key, op, bound in requirements:
        if key not in card["metrics"]:
            failures.append(f"{key}: no such figure (known: {', '.join(sorted(card['metrics']))})")
            continue
        value = card["metrics"][key]
        if (op == "<=" and value > bound) or (op == ">=" and value < bound):
            failures.append(f"{key} = {value:g}, required {op} {bound:g}")
    return failures


def rows(card: dict[str, Any]) -> list[tuple[str, ...]]:
    """The table: one row per scenario and kind, per trap, then the headline figures."""
    out: list[tuple[str, ...]] = []
    split = card.get("by_encryption", {})
    if len({name.split()[0] for name in split}) < 2:  # one kind: nothing the rows don't say
        split = {}
    for name, c in [*card["by_scenario"].items(),
                    *((f"trap: {t}", c) for t, c in card["traps"].items()),
                    *((f"all {k}", c) for k, c in split.items())]:
        out.append((name, f"{c['total']:,}", *(f"{c[a]:,}" for a in ACTIONS),
                    f"{c['stopped_share']:.3%}"))
    return out


def plot(card: dict[str, Any], path: Path) -> None:
    """Hourly counts of what spim and stopped ham met, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = list(range(24 * card["days"]))  # quiet hours are zeros, not gaps
    figure, axes = plt.subplots(figsize=(10, 4.5), dpi=100)
    for series in SERIES:
        values = [card["timeline"].get(str(h), {}).get(series, 0) for h in hours]
        if any(values):
            axes.plot(hours, values, marker=".", label=series,
                      linestyle="--" if series.startswith("ham") else "-")
    axes.set_yscale("symlog")
    axes.set_xlabel("hour of the simulation (event time)")
    axes.set_ylabel("messages per hour")
    axes.set_title(f"spimguard simulate --scenario {card['scenario']}: {card['users']:,} users, "
                   f"{card['days']} days")
    axes.axvline(24 * (card["days"] - 1), color="grey", linewidth=0.8)
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
