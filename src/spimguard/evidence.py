"""Evidence bundles: what an abuse or legal team needs to act on a campaign, tamper-evident.

A bundle is a folder (or the same files zipped):

- ``summary.json``: the campaign (times, counts, senders, sessions, domains, phones, handles);
- ``messages.csv``: every message kept as evidence: id, time, sender, session, client, IP,
  recipient pseudonyms, action, text;
- ``domains.csv`` and ``sessions.csv``: the advertised domains and the sending sessions;
- ``timeline.png`` and ``report.html``: the same, readable by a person (text escaped);
- ``manifest.json``: the SHA-256 of every file, and a hash chain over the message records
  (h0 = SHA-256 of the format and campaign id, h_i = SHA-256(h_(i-1) ‖ record i)), so that
  any edited, dropped or reordered row is detected (``spimguard evidence verify DIR``).

Recipients are victims, not evidence: they appear only as keyed pseudonyms
(HMAC-SHA-256 under the installation's evidence key), stable within an
installation so that one recipient's messages can be linked, meaningless outside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from . import campaigns
from .records import CampaignMessage, RecordStore

FORMAT = "spimguard-evidence/1"
FILES = ("summary.json", "messages.csv", "domains.csv", "sessions.csv", "timeline.png",
         "report.html")
_HEADER = ["id", "time", "sender", "session", "client", "ip", "recipients", "action", "text"]


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def pseudonym(key: bytes, account: str) -> str:
    return hmac.new(key, account.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def _record(row: list[str]) -> bytes:
    """The canonical bytes of one message record, as the chain hashes it."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8",
                                                                             "surrogatepass")


def chain(campaign: str, rows: list[list[str]]) -> str:
    head = hashlib.sha256(f"{FORMAT}|{campaign}".encode()).digest()
    for row in rows:
        head = hashlib.sha256(head + _record(row)).digest()
    return head.hex()


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def _timeline(messages: list[CampaignMessage]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = sorted({int(m.ts // 3600) for m in messages})
    counts = {action: Counter(int(m.ts // 3600) for m in messages if m.action == action)
              for action in ("deliver", "warn", "hold", "block")}
    figure, axes = plt.subplots(figsize=(8, 3.2), dpi=100)
    bottom = [0] * len(hours)
    for action, colour in (("deliver", "#c0392b"), ("warn", "#e67e22"), ("hold", "#2980b9"),
                           ("block", "#27ae60")):
        values = [counts[action][h] for h in hours]
        labels = [dt.datetime.fromtimestamp(h * 3600, dt.UTC).strftime("%m-%d %H:00")
                  for h in hours]
        axes.bar(labels, values, bottom=bottom, color=colour, label=action)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("messages per hour")
    axes.set_title("campaign timeline (UTC), by action taken")
    axes.legend(fontsize=8)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


def build(records: RecordStore, campaign: str, key: bytes) -> dict[str, bytes] | None:
    """Every file of the bundle, manifest last; None when there is no such campaign."""
    messages = list(records.campaign_messages(campaign))
    info = campaigns.summary(records, campaign, messages)
    if info is None:
        return None
    rows = [[m.id, _iso(m.ts), m.sender, m.session, m.client, m.ip,
             " ".join(pseudonym(key, r) for r in m.recipients), m.action, m.text]
            for m in messages]
    files: dict[str, bytes] = {
        "summary.json": json.dumps({**info, "first_seen": _iso(info["first_seen"]),
                                    "last_seen": _iso(info["last_seen"])},
                                   indent=2, ensure_ascii=False).encode("utf-8"),
        "messages.csv": _csv(_HEADER, rows),
        "domains.csv": _csv(["domain", "first_seen", "last_seen", "messages"],
                            [[d["domain"], _iso(d["first_seen"]), _iso(d["last_seen"]),
                              d["messages"]] for d in info["domains"]]),
        "sessions.csv": _csv(["account", "session", "clients", "ips", "first", "last",
                              "messages"],
                             [[s["account"], s["session"], " ".join(s["clients"]),
                               " ".join(s["ips"]), _iso(s["first"]), _iso(s["last"]),
                               s["messages"]] for s in info["sessions"]]),
        "timeline.png": _timeline(messages),
    }
    page = Environment(loader=PackageLoader("spimguard", "server/templates"),
                       autoescape=select_autoescape(["html"])).get_template("evidence.html")
    files["report.html"] = page.render(info=info, rows=rows[:500], more=max(0, len(rows) - 500),
                                       first=_iso(info["first_seen"]),
                                       last=_iso(info["last_seen"])).encode("utf-8")
    manifest = {"format": FORMAT, "campaign": campaign,
                "files": {name: hashlib.sha256(files[name]).hexdigest() for name in FILES},
                "chain": {"algorithm": "sha256", "over": "messages.csv records",
                          "records": len(rows), "head": chain(campaign, rows)}}
    files["manifest.json"] = json.dumps(manifest, indent=2).encode("utf-8")
    return files


def write(files: dict[str, bytes], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def verify(folder: Path) -> list[str]:
    """What does not match the manifest (an empty list: the bundle is intact)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return [f"manifest.json unreadable: {exc}"]
    if manifest.get("format") != FORMAT:
        return [f"not a {FORMAT} bundle"]
    problems = []
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    try:
        with (folder / "messages.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))[1:]
    except OSError:
        rows = []
    declared = manifest.get("chain", {})
    if len(rows) != declared.get("records"):
        problems.append(f"messages.csv has {len(rows)} records, the manifest "
                        f"{declared.get('records')}")
    if chain(manifest.get("campaign", ""), rows) != declared.get("head"):
        problems.append("the hash chain over messages.csv does not match the manifest")
    return problems
