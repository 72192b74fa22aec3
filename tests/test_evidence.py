"""Evidence bundles against a hostile reader and a hostile editor: no cell a spreadsheet runs
as a formula, and no edit that still verifies (issue 13, findings 4 and 10)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import T0, config, message
from spimguard import evidence, open_engine
from spimguard.cli import app
from spimguard.engine import Engine

PITCH = ("{lead} Hi {name}! I found the coolest ringtones, get yours free at "
         "http://tonez-club.biz/r{n} or call 0800 555 {n:04d} now")
# What a spammer controls in a bundle, each written as a spreadsheet formula.
LEADS = ("=HYPERLINK(\"http://x.example\",\"open\")", "+1+cmd|' /C calc'!A0", "-2+3",
         "@SUM(1,1)", "\t=1+1", "\r=1+1", "'=already quoted")


def hostile_campaign(engine: Engine) -> str:
    for n in range(40):
        lead = LEADS[n % len(LEADS)]
        engine.process(message(engine.config, f"c{n}", f"{lead}acct{n % 10}", [f"friend{n}"],
                               PITCH.format(lead=lead, name=f"friend{n}", n=n), T0 + n * 11,
                               session=f"{lead}s{n % 10}",
                               client={"id": f"{lead} MobileFunster", "ip": f"{lead}{n % 10}"}))
    return engine.records.campaign_ids()[0]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    engine = open_engine(config(storage={"backend": "sqlite"}), tmp_path / "data")
    campaign = hostile_campaign(engine)
    engine.close()
    out = tmp_path / "bundle"
    result = CliRunner().invoke(app, ["evidence", "export", campaign, "--out", str(out),
                                      "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    return out


def verify(folder: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["evidence", "verify", str(folder), *options])
    return result.exit_code, " ".join(result.output.split())


def test_no_csv_cell_starts_a_formula(bundle: Path) -> None:
    seen = 0
    for name in ("messages.csv", "sessions.csv", "domains.csv", "chain.csv"):
        raw = (bundle / name).read_bytes().decode("utf-8")  # CR kept
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
                seen += cell.startswith("'")
        # OWASP: the neutralised cell is also quoted.
        assert all(line.startswith('"') for line in raw.split("\n") if line)
    assert seen >= 7 * 6  # text, sender, session, client, ip of every lead, and sessions.csv
    rows = list(csv.DictReader(io.StringIO((bundle / "messages.csv").read_bytes().decode(),
                                           newline="")))
    assert all(row["text"].startswith("'") for row in rows)  # every text begins with a lead
    assert len({row["text"][:2] for row in rows}) >= 6
    assert any(row["text"].startswith("''=already") for row in rows)  # a quote stays telling
    assert rows[0]["sender"].startswith("'") and rows[0]["ip"].startswith("'")
    assert rows[0]["session"].startswith("'") and rows[0]["client"].startswith("'")
    assert verify(bundle)[0] == 0


def test_a_clean_bundle_verifies_against_the_published_key(bundle: Path,
                                                           tmp_path: Path) -> None:
    published = CliRunner().invoke(app, ["evidence", "key", "--data-dir",
                                         str(tmp_path / "data")])
    assert published.exit_code == 0
    key_file = tmp_path / "key.txt"
    key_file.write_text(published.output)
    assert len(published.output.strip()) == 64
    code, output = verify(bundle, "--public-key", str(key_file))
    assert code == 0, output
    assert published.output.strip() in verify(bundle)[1]  # without a key: the signer shown
    other = tmp_path / "other.txt"
    other.write_text(evidence.public_key(b"another installation") + "\n")
    code, output = verify(bundle, "--public-key", str(other))
    assert code == 1 and "signature" in output


def _rewrite(bundle: Path, *, recompute: bool) -> str:
    """Change the fifth record's action (its id returned); with ``recompute``, also every
    hash an editor can recompute."""
    rows = list(csv.reader(io.StringIO((bundle / "messages.csv").read_bytes().decode(),
                                       newline="")))
    rows[5][7] = "deliver" if rows[5][7] != "deliver" else "block"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    (bundle / "messages.csv").write_bytes(out.getvalue().encode())
    if not recompute:
        return rows[5][0]
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    heads = evidence.chain(manifest["campaign"], rows[1:])
    chain_rows = [["record", "id", "head"]] + [[str(n), row[0], head] for n, (row, head)
                                               in enumerate(zip(rows[1:], heads, strict=True), 1)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(chain_rows)
    (bundle / "chain.csv").write_text(out.getvalue(), "utf-8")
    manifest["chain"]["head"] = heads[-1]
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    return rows[5][0]


def test_an_edit_with_every_hash_recomputed_fails_on_the_signature(bundle: Path) -> None:
    _rewrite(bundle, recompute=True)
    code, output = verify(bundle)
    assert code == 1
    assert "signature in manifest.sig does not match" in output
    assert "record" not in output and "SHA-256" not in output  # only the signature betrays it


def test_an_edited_row_is_named(bundle: Path) -> None:
    edited = _rewrite(bundle, recompute=False)
    code, output = verify(bundle)
    assert code == 1
    assert f"messages.csv record 5 (id {edited}) does not match the hash chain" in output
    assert "messages.csv does not match its SHA-256" in output
    assert "signature" not in output  # the manifest itself is intact


def test_an_unsigned_bundle_fails(bundle: Path) -> None:
    (bundle / "manifest.sig").unlink()
    code, output = verify(bundle)
    assert code == 1 and "not signed" in output
