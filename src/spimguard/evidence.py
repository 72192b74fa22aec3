"""Evidence bundles: what an abuse or legal team needs to act on a campaign, tamper-evident.

A bundle is a folder (or the same files zipped):

- ``summary.json``: the campaign (times, counts, senders, sessions, domains, phones, handles,
  short codes with their keywords);
- ``messages.csv``: every message kept as evidence: id, time, sender, session, client, IP,
  recipient pseudonyms, action, text;
- ``domains.csv`` and ``sessions.csv``: the advertised domains and the sending sessions;
- ``timeline.png`` and ``report.html``: the same, readable by a person (text escaped);
- ``chain.csv``: the hash chain over the message records (h0 = SHA-256 of the format and
  campaign id, h_i = SHA-256(h_(i-1) ‖ record i)), one head per record, so that an edited,
  dropped or reordered row is detected and named;
- ``manifest.json``: the SHA-256 of every file and the chain's last head;
- ``manifest.sig``: an Ed25519 signature of ``manifest.json`` by the installation, and its
  public key. Hashes alone prove nothing against someone who edits a file and recomputes
  them; the signature does, checked against the installation's published key
  (``spimguard evidence key``; ``spimguard evidence verify DIR --public-key FILE``).

Every CSV cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``,
``-``, ``@``, tab or CR: OWASP's list) is written with a leading ``'`` and quoted, as is
one that starts with ``'`` itself, so that a leading quote always means "one was added"
and the original is the cell without it. The chain is over the cells as written.

Recipients are victims, not evidence: they appear only as keyed pseudonyms
(HMAC-SHA-256 under the installation's evidence key), stable within an
installation so that one recipient's messages can be linked, meaningless outside it.
The signing key is derived from that same key (HMAC-SHA-256 of a fixed label), so it
is kept (0600 in the data dir) or configured (``records.evidence_key``) with it.
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

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jinja2 import Environment, PackageLoader, select_autoescape

from . import campaigns
from .records import CampaignMessage, RecordReads

FORMAT = "spimguard-evidence/2"
FILES = ("summary.json", "messages.csv", "domains.csv", "sessions.csv", "chain.csv",
         "timeline.png", "report.html")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_HEADER = ["id", "time", "sender", "session", "client", "ip", "recipients", "action", "text"]


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def pseudonym(key: bytes, account: str) -> str:
    return hmac.new(key, account.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def _record(row: list[str]) -> bytes:
    """The canonical bytes of one message record, as the chain hashes it."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8",
                                                                             "surrogatepass")


def chain(campaign: str, rows: list[list[str]]) -> list[str]:
    """The head after each record (the last one is the chain's head)."""
    head = hashlib.sha256(f"{FORMAT}|{campaign}".encode()).digest()
    heads = []
    for row in rows:
        head = hashlib.sha256(head + _record(row)).digest()
        heads.append(head.hex())
    return heads


def inert(cell: object) -> str:
    """A cell no spreadsheet runs as a formula (OWASP: a leading ``'``, and quoted)."""
    text = str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def signing_key(key: bytes) -> Ed25519PrivateKey:
    """The installation's Ed25519 key, derived from its evidence key (one secret to keep)."""
    seed = hmac.new(key, b"spimguard evidence signing key/1", hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(key: bytes) -> str:
    """The public half, hex: what an installation publishes so bundles can be checked."""
    return signing_key(key).public_key().public_bytes_raw().hex()


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


def build(records: RecordReads, campaign: str, key: bytes) -> dict[str, bytes] | None:
    """Every file of the bundle, manifest last; None when there is no such campaign."""
    messages = list(records.campaign_messages(campaign))
    info = campaigns.summary(records, campaign, messages)
    if info is None:
        return None
    shown = [[m.id, _iso(m.ts), m.sender, m.session, m.client, m.ip,
              " ".join(pseudonym(key, r) for r in m.recipients), m.action, m.text]
             for m in messages]
    rows = [[inert(cell) for cell in row] for row in shown]
    heads = chain(campaign, rows)
    files: dict[str, bytes] = {
        "summary.json": json.dumps({**info, "first_seen": _iso(info["first_seen"]),
                                    "last_seen": _iso(info["last_seen"])},
                                   indent=2, ensure_ascii=False).encode("utf-8"),
        "messages.csv": _csv(_HEADER, rows),
        "domains.csv": _csv(["domain", "first_seen", "last_seen", "messages"],
                            [[inert(c) for c in (d["domain"], _iso(d["first_seen"]),
                                                 _iso(d["last_seen"]), d["messages"])]
                             for d in info["domains"]]),
        "sessions.csv": _csv(["account", "session", "clients", "ips", "first", "last",
                              "messages"],
                             [[inert(c) for c in (s["account"], s["session"],
                                                  " ".join(s["clients"]), " ".join(s["ips"]),
                                                  _iso(s["first"]), _iso(s["last"]),
                                                  s["messages"])]
                              for s in info["sessions"]]),
        "chain.csv": _csv(["record", "id", "head"],
                          [[str(n), row[0], head] for n, (row, head)
                           in enumerate(zip(rows, heads, strict=True), 1)]),
        "timeline.png": _timeline(messages),
    }
    page = Environment(loader=PackageLoader("spimguard", "server/templates"),
                       autoescape=select_autoescape(["html"])).get_template("evidence.html")
    files["report.html"] = page.render(info=info, rows=shown[:500], more=max(0, len(rows) - 500),
                                       first=_iso(info["first_seen"]),
                                       last=_iso(info["last_seen"])).encode("utf-8")
    manifest = {"format": FORMAT, "campaign": campaign,
                "files": {name: hashlib.sha256(files[name]).hexdigest() for name in FILES},
                "chain": {"algorithm": "sha256", "over": "messages.csv records",
                          "records": len(rows), "head": heads[-1] if heads else ""}}
    files["manifest.json"] = json.dumps(manifest, indent=2).encode("utf-8")
    signer = signing_key(key)
    files["manifest.sig"] = json.dumps({
        "algorithm": "ed25519", "signed": "manifest.json",
        "public_key": signer.public_key().public_bytes_raw().hex(),
        "signature": signer.sign(files["manifest.json"]).hex()}, indent=2).encode("utf-8")
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


def verify(folder: Path, trusted_key: str = "") -> list[str]:
    """What does not match (an empty list: the bundle is intact and signed).

    The signature comes first: without it, matching hashes only show that whoever wrote
    the bundle last was careful. ``trusted_key`` (hex) is the installation's published
    public key; without it the key in ``manifest.sig`` is used, and the caller must show
    it so a person can compare it with the published one.
    """
    try:
        signed = (folder / "manifest.json").read_bytes()
        manifest = json.loads(signed)
    except (OSError, ValueError) as exc:
        return [f"manifest.json unreadable: {exc}"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [f"not a {FORMAT} bundle"]
    problems = _signature_problems(folder, signed, trusted_key)
    for name, digest in manifest.get("files", {}).items():
        path = folder / Path(name).name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name} does not match its SHA-256 in the manifest")
    problems.extend(_chain_problems(folder, str(manifest.get("campaign", "")),
                                    manifest.get("chain", {})))
    return problems


def signer_of(folder: Path) -> str:
    """The public key a bundle's ``manifest.sig`` names (check it with ``verify`` first)."""
    return str(json.loads((folder / "manifest.sig").read_text("utf-8"))["public_key"])


def _signature_problems(folder: Path, signed: bytes, trusted_key: str) -> list[str]:
    try:
        sig = json.loads((folder / "manifest.sig").read_text("utf-8"))
        claimed = str(sig["public_key"])
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(trusted_key or claimed))
        key.verify(bytes.fromhex(str(sig["signature"])), signed)
    except OSError:
        return ["manifest.sig is missing: the bundle is not signed"]
    except InvalidSignature:
        return ["the signature in manifest.sig does not match manifest.json (or was made "
                "with another key): the bundle was changed after it was signed"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"manifest.sig unreadable: {exc}"]
    if trusted_key and claimed != trusted_key:
        return ["manifest.sig names another public key than the given one"]
    return []


def _chain_problems(folder: Path, campaign: str, declared: dict[str, Any]) -> list[str]:
    """The first record whose chain head differs from chain.csv, by number and id."""
    try:
        with (folder / "messages.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        with (folder / "chain.csv").open(encoding="utf-8", newline="") as handle:
            recorded = [row[2] for row in list(csv.reader(handle))[1:] if len(row) == 3]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"messages.csv or chain.csv unreadable: {exc}"]
    problems = []
    if len(rows) != declared.get("records"):
        problems.append(f"messages.csv has {len(rows)} records, the manifest "
                        f"{declared.get('records')}")
    heads = chain(campaign, rows)
    for number, (head, expected) in enumerate(zip(heads, recorded, strict=False), 1):
        if head != expected:
            record = rows[number - 1][0] if rows[number - 1] else "?"
            problems.append(f"messages.csv record {number} (id {record}) does not match "
                            "the hash chain")
            break
    if (heads[-1] if heads else "") != declared.get("head"):
        problems.append("the hash chain over messages.csv does not match the manifest")
    return problems
